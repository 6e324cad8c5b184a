use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::MarketUpdated;
use crate::state::{Market, MarketParams};

/// Replaces the market's parameters (all but `draw_horizon_slots`, fixed at creation). Jobs
/// already created keep the values they copied.
#[derive(Accounts)]
pub struct UpdateMarket<'info> {
    pub authority: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        has_one = authority @ ConcordError::Unauthorized,
    )]
    pub market: Account<'info, Market>,
}

impl UpdateMarket<'_> {
    pub fn handle(ctx: Context<Self>, params: MarketParams) -> Result<()> {
        params.validate()?;
        let market = &mut ctx.accounts.market;
        // The pool's epochs are cut by the horizon: changing it would misalign every snapshot.
        require!(
            params.draw_horizon_slots == market.params.draw_horizon_slots,
            ConcordError::ImmutableParameter
        );
        market.params = params;
        crate::events::emit(MarketUpdated {
            market: market.key(),
            params,
        });
        Ok(())
    }
}
