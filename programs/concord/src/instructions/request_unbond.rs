use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::UnbondRequested;
use crate::state::{Market, Node, NodeStatus};

/// Starts unbonding: the node takes no new claims, and its stake becomes withdrawable once the
/// market's unbonding period has passed and it holds no slot. Unbonding is final for this node
/// account.
#[derive(Accounts)]
pub struct RequestUnbond<'info> {
    pub operator: Signer<'info>,

    #[account(
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

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
        let node = &mut ctx.accounts.node;
        require!(node.is_active(), ConcordError::NodeUnbonding);
        let now = Clock::get()?.unix_timestamp;
        let withdrawable_at = now
            .checked_add(ctx.accounts.market.params.unbonding_period)
            .ok_or(ConcordError::MathOverflow)?;
        node.status = NodeStatus::Unbonding {
            since: now,
            withdrawable_at,
        };
        node.last_active = now;
        emit!(UnbondRequested {
            node: node.key(),
            since: now,
            withdrawable_at,
        });
        Ok(())
    }
}
