use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::StakeWithdrawn;
use crate::state::{Market, Node};
use crate::transfers;

/// Withdraws stake of an unbonding node (out of the pool since `request_unbond`), once its
/// unbonding period has passed and it holds no seat, to any token account of the mint.
#[derive(Accounts)]
pub struct WithdrawStake<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
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

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    #[account(mut, constraint = destination.mint == market.mint @ ConcordError::WrongMint)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl WithdrawStake<'_> {
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, ConcordError::ZeroAmount);
        let now = Clock::get()?.unix_timestamp;
        let market = &mut ctx.accounts.market;
        let node = &mut ctx.accounts.node;
        node.withdraw_stake(amount, now)?;
        market.remove_stake(amount)?;
        node.last_active = now;
        transfers::out_of_vault(
            market,
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            &ctx.accounts.mint,
            ctx.accounts.destination.to_account_info(),
            amount,
        )?;
        crate::events::emit(StakeWithdrawn {
            node: node.key(),
            amount,
            stake: node.stake,
        });
        Ok(())
    }
}
