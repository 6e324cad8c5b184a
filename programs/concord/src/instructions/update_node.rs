use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::NodeUpdated;
use crate::state::{Node, NodeSpec};

/// Replaces the node's hardware spec. Slots already held are not re-checked.
#[derive(Accounts)]
pub struct UpdateNode<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.market.as_ref(), node.operator.as_ref()],
        bump = node.bump,
        has_one = operator @ ConcordError::Unauthorized,
    )]
    pub node: Account<'info, Node>,
}

impl UpdateNode<'_> {
    pub fn handle(ctx: Context<Self>, spec: NodeSpec) -> Result<()> {
        spec.validate()?;
        let node = &mut ctx.accounts.node;
        node.spec = spec.clone();
        node.last_active = Clock::get()?.unix_timestamp;
        emit!(NodeUpdated {
            node: node.key(),
            spec,
        });
        Ok(())
    }
}
