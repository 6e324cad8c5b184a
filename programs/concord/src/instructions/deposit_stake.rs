use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::StakeDeposited;
use crate::state::{Change, Market, Node, Pool};
use crate::transfers;

/// Adds stake to the signer's node.
#[derive(Accounts)]
pub struct DepositStake<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
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
}

impl DepositStake<'_> {
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, ConcordError::ZeroAmount);
        let slot = Clock::get()?.slot;
        let key = ctx.accounts.node.key();
        let market = &mut ctx.accounts.market;
        let node = &mut ctx.accounts.node;
        node.deposit(amount)?;
        market.add_stake(amount)?;
        ctx.accounts
            .pool
            .load_mut()?
            .reconcile(key, node, slot, Change::Operator)?;
        transfers::into_vault(
            &ctx.accounts.token_program,
            &ctx.accounts.operator_token,
            &ctx.accounts.mint,
            &ctx.accounts.vault,
            &ctx.accounts.operator,
            amount,
        )?;
        crate::events::emit(StakeDeposited {
            node: key,
            amount,
            stake: node.stake,
        });
        Ok(())
    }
}
