use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::NodeAskSet;
use crate::state::{Change, Market, Node, Pool};

/// Sets the lowest price the node accepts, in token base units per 10⁹ work units. Jobs whose
/// price is below it skip the node in their draw.
#[derive(Accounts)]
pub struct SetAsk<'info> {
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

impl SetAsk<'_> {
    pub fn handle(ctx: Context<Self>, ask: u64) -> Result<()> {
        let clock = Clock::get()?;
        let key = ctx.accounts.node.key();
        let node = &mut ctx.accounts.node;
        node.ask = ask;
        node.last_active = clock.unix_timestamp;
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(key, node, clock.slot, Change::Operator)?;
        crate::events::emit(NodeAskSet { node: key, ask });
        Ok(())
    }
}
