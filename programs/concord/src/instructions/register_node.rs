use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::{NodeRegistered, StakeDeposited};
use crate::state::{Change, Market, Node, NodeSpec, Pool};
use crate::transfers;

/// Registers the signer's node in a market with its hardware spec, its ask and an initial stake
/// (which may be 0 and topped up later with `deposit_stake`). The node is available at once: it
/// enters the pool, and the draws of jobs created from the next pool epoch on.
#[derive(Accounts)]
pub struct RegisterNode<'info> {
    #[account(mut)]
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        constraint = !market.paused @ ConcordError::MarketPaused,
    )]
    pub market: Account<'info, Market>,

    #[account(mut, address = market.pool @ ConcordError::WrongPool)]
    pub pool: AccountLoader<'info, Pool>,

    #[account(
        init,
        payer = operator,
        space = Node::SIZE,
        seeds = [NODE_SEED, market.key().as_ref(), operator.key().as_ref()],
        bump,
    )]
    pub node: Account<'info, Node>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    #[account(
        mut,
        constraint = operator_token.mint == market.mint @ ConcordError::WrongMint,
        constraint = operator_token.owner == operator.key() @ ConcordError::WrongTokenOwner,
    )]
    pub operator_token: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
    pub system_program: Program<'info, System>,
}

impl RegisterNode<'_> {
    pub fn handle(ctx: Context<Self>, spec: NodeSpec, stake: u64, ask: u64) -> Result<()> {
        spec.validate()?;
        let clock = Clock::get()?;
        let market = &mut ctx.accounts.market;
        market.node_count = market
            .node_count
            .checked_add(1)
            .ok_or(ConcordError::MathOverflow)?;
        market.add_stake(stake)?;

        let node_key = ctx.accounts.node.key();
        let node = &mut ctx.accounts.node;
        node.set_inner(Node::new(
            market.key(),
            ctx.accounts.operator.key(),
            spec.clone(),
            stake,
            ask,
            clock.unix_timestamp,
            ctx.bumps.node,
        ));
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(node_key, node, clock.slot, Change::Operator)?;
        if stake > 0 {
            transfers::into_vault(
                &ctx.accounts.token_program,
                &ctx.accounts.operator_token,
                &ctx.accounts.mint,
                &ctx.accounts.vault,
                &ctx.accounts.operator,
                stake,
            )?;
        }
        crate::events::emit(NodeRegistered {
            market: market.key(),
            node: node_key,
            operator: node.operator,
            spec,
            ask,
        });
        if stake > 0 {
            crate::events::emit(StakeDeposited {
                node: node_key,
                amount: stake,
                stake,
            });
        }
        Ok(())
    }
}
