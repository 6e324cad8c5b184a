use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::TreasuryWithdrawn;
use crate::state::Market;
use crate::transfers;

/// Sends `amount` of the treasury (fees and slashed collateral) to any token account of the mint.
#[derive(Accounts)]
pub struct WithdrawTreasury<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        has_one = authority @ ConcordError::Unauthorized,
    )]
    pub market: Account<'info, Market>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    #[account(mut, constraint = destination.mint == market.mint @ ConcordError::WrongMint)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawTreasury<'_> {
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, ConcordError::ZeroAmount);
        let market = &mut ctx.accounts.market;
        market.treasury = market
            .treasury
            .checked_sub(amount)
            .ok_or(ConcordError::InsufficientTreasury)?;
        transfers::out_of_vault(
            market,
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            &ctx.accounts.mint,
            ctx.accounts.destination.to_account_info(),
            amount,
        )?;
        crate::events::emit(TreasuryWithdrawn {
            market: market.key(),
            destination: ctx.accounts.destination.key(),
            amount,
            treasury_left: market.treasury,
        });
        Ok(())
    }
}
