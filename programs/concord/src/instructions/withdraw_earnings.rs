use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::EarningsWithdrawn;
use crate::state::{Market, Node};
use crate::transfers;

/// Withdraws earned rewards to any token account of the mint. Allowed at any time, even while
/// the market is paused or the node is unbonding.
#[derive(Accounts)]
pub struct WithdrawEarnings<'info> {
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

impl WithdrawEarnings<'_> {
    pub fn handle(ctx: Context<Self>, amount: u64) -> Result<()> {
        require!(amount > 0, ConcordError::ZeroAmount);
        let market = &mut ctx.accounts.market;
        let node = &mut ctx.accounts.node;
        node.withdraw_earnings(amount)?;
        market.total_earnings = market
            .total_earnings
            .checked_sub(amount)
            .ok_or(ConcordError::MathOverflow)?;
        transfers::out_of_vault(
            market,
            &ctx.accounts.token_program,
            &ctx.accounts.vault,
            &ctx.accounts.mint,
            ctx.accounts.destination.to_account_info(),
            amount,
        )?;
        crate::events::emit(EarningsWithdrawn {
            node: node.key(),
            amount,
            earnings: node.earnings,
        });
        Ok(())
    }
}
