use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::NodeUpdated;
use crate::state::{Change, Market, Node, NodeSpec, Pool};

/// Replaces the node's hardware spec. Seats already held are not re-checked; jobs that already
/// exist will not draw the node (see `PoolEntry::changed_slot`).
#[derive(Accounts)]
pub struct UpdateNode<'info> {
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

impl UpdateNode<'_> {
    pub fn handle(ctx: Context<Self>, spec: NodeSpec) -> Result<()> {
        spec.validate()?;
        let clock = Clock::get()?;
        let key = ctx.accounts.node.key();
        let node = &mut ctx.accounts.node;
        node.spec = spec.clone();
        node.last_active = clock.unix_timestamp;
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(key, node, clock.slot, Change::Operator)?;
        crate::events::emit(NodeUpdated { node: key, spec });
        Ok(())
    }
}
