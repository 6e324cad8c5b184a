//! Every token movement in and out of a market's vault goes through these two functions, with
//! `transfer_checked` through the token interface so SPL Token and Token-2022 mints both work.

use anchor_lang::prelude::*;
use anchor_spl::token_interface::{self, Mint, TokenAccount, TokenInterface, TransferChecked};

use crate::constants::MARKET_SEED;
use crate::state::Market;

/// Moves `amount` from a user's token account into the vault; `authority` signs.
pub fn into_vault<'info>(
    token_program: &Interface<'info, TokenInterface>,
    from: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    authority: &Signer<'info>,
    amount: u64,
) -> Result<()> {
    let accounts = TransferChecked {
        from: from.to_account_info(),
        mint: mint.to_account_info(),
        to: vault.to_account_info(),
        authority: authority.to_account_info(),
    };
    token_interface::transfer_checked(
        CpiContext::new(token_program.key(), accounts),
        amount,
        mint.decimals,
    )
}

/// Moves `amount` from the vault to `to`, signed by the market PDA.
pub fn out_of_vault<'info>(
    market: &Account<'info, Market>,
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    to: AccountInfo<'info>,
    amount: u64,
) -> Result<()> {
    let market_id = market.market_id.to_le_bytes();
    let seeds: &[&[u8]] = &[
        MARKET_SEED,
        market.authority.as_ref(),
        &market_id,
        std::slice::from_ref(&market.bump),
    ];
    let accounts = TransferChecked {
        from: vault.to_account_info(),
        mint: mint.to_account_info(),
        to,
        authority: market.to_account_info(),
    };
    token_interface::transfer_checked(
        CpiContext::new_with_signer(token_program.key(), accounts, &[seeds]),
        amount,
        mint.decimals,
    )
}
