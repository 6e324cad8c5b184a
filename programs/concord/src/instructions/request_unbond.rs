use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::UnbondRequested;
use crate::state::{Change, Market, Node, Pool};

/// Starts unbonding: the node leaves the draw's pool at once (seats already held must still be
/// served), and its stake becomes withdrawable once the market's unbonding period has passed and
/// it holds no seat. Unbonding is final for this node account.
#[derive(Accounts)]
pub struct RequestUnbond<'info> {
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

impl RequestUnbond<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let clock = Clock::get()?;
        let now = clock.unix_timestamp;
        let key = ctx.accounts.node.key();
        let node = &mut ctx.accounts.node;
        let withdrawable_at = node.unbond(now, ctx.accounts.market.params.unbonding_period)?;
        node.last_active = now;
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(key, node, clock.slot, Change::Operator)?;
        crate::events::emit(UnbondRequested {
            node: key,
            since: now,
            withdrawable_at,
        });
        Ok(())
    }
}
