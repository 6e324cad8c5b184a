use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::MarketPauseSet;
use crate::state::Market;

/// Pauses or unpauses the market. A pause stops new jobs, claims and registrations only:
/// commits, reveals, settlement, cancellation, closing and withdrawals keep working.
#[derive(Accounts)]
pub struct SetPaused<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        has_one = authority @ ConcordError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
}

impl SetPaused<'_> {
    pub fn handle(ctx: Context<Self>, paused: bool) -> Result<()> {
        let market = &mut ctx.accounts.market;
        market.paused = paused;
        crate::events::emit(MarketPauseSet {
            market: market.key(),
            paused,
        });
        Ok(())
    }
}
