use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::JobClosed;
use crate::settlement::{self, Payout};
use crate::state::{Job, Market};

/// Closes a terminal job: returns its rent to the buyer, and any refund that settlement could
/// not deliver to a token account of the buyer's choice.
#[derive(Accounts)]
pub struct CloseJob<'info> {
    #[account(mut)]
    pub buyer: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

    #[account(
        mut,
        close = buyer,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
        has_one = buyer @ ConcordError::Unauthorized,
        constraint = job.state.is_terminal() @ ConcordError::JobNotTerminal,
    )]
    pub job: Account<'info, Job>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    #[account(mut, constraint = destination.mint == market.mint @ ConcordError::WrongMint)]
    pub destination: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl CloseJob<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let accounts = ctx.accounts;
        let refund = accounts.job.escrow;
        let payout = Payout {
            token_program: &accounts.token_program,
            vault: &accounts.vault,
            mint: &accounts.mint,
            destination: accounts.destination.to_account_info(),
        };
        let delivered =
            settlement::deliver_refund(&mut accounts.market, &mut accounts.job, &payout)?;
        require!(delivered, ConcordError::RefundAccountUnusable);
        crate::events::emit(JobClosed {
            job: accounts.job.key(),
            refund,
        });
        Ok(())
    }
}
