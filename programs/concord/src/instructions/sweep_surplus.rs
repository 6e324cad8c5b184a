use anchor_lang::prelude::*;
use anchor_spl::token_interface::TokenAccount;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::SurplusSwept;
use crate::state::Market;

/// Moves tokens that reached the vault from outside the protocol (a plain transfer into it)
/// into the treasury, where the authority can withdraw them. Afterwards the conservation
/// invariant holds with equality again.
#[derive(Accounts)]
pub struct SweepSurplus<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        has_one = authority @ ConcordError::Unauthorized,
    )]
    pub market: Account<'info, Market>,

    #[account(address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,
}

impl SweepSurplus<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let market = &mut ctx.accounts.market;
        let expected = market
            .expected_vault_balance()
            .ok_or(ConcordError::MathOverflow)?;
        let surplus = ctx.accounts.vault.amount.saturating_sub(expected);
        require!(surplus > 0, ConcordError::NoSurplus);
        market.treasury = market
            .treasury
            .checked_add(surplus)
            .ok_or(ConcordError::MathOverflow)?;
        crate::events::emit(SurplusSwept {
            market: market.key(),
            amount: surplus,
            treasury: market.treasury,
        });
        Ok(())
    }
}
