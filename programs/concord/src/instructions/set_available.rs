use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::NodeAvailabilitySet;
use crate::state::{Change, Market, Node, Pool};

/// The operator's switch: `true` puts an active node into the draw's pool, `false` takes it out
/// (seats already held are kept and must be served). Unlike unbonding it is reversible and
/// keeps the stake where it is.
#[derive(Accounts)]
pub struct SetAvailable<'info> {
    pub operator: Signer<'info>,

    #[account(
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

    #[account(mut, address = market.pool @ ConcordError::WrongPool)]
    pub pool: AccountLoader<'info, Pool>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.market.as_ref(), node.operator.as_ref()],
        bump = node.bump,
        has_one = operator @ ConcordError::Unauthorized,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub node: Account<'info, Node>,
}

impl SetAvailable<'_> {
    pub fn handle(ctx: Context<Self>, available: bool) -> Result<()> {
        let clock = Clock::get()?;
        let key = ctx.accounts.node.key();
        let node = &mut ctx.accounts.node;
        node.available = available;
        node.last_active = clock.unix_timestamp;
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(key, node, clock.slot, Change::Operator)?;
        crate::events::emit(NodeAvailabilitySet {
            node: key,
            available,
            in_pool: node.in_draw(),
        });
        Ok(())
    }
}
