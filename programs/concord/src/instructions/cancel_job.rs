use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::settlement;
use crate::state::{Job, JobState, Market};

/// Cancels an open job that has no claim yet and refunds the whole escrow, fee included, to a
/// token account of the buyer's choice.
#[derive(Accounts)]
pub struct CancelJob<'info> {
    pub buyer: Signer<'info>,

    #[account(
        mut,
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
    )]
    pub market: Account<'info, Market>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
        has_one = buyer @ ConcordError::Unauthorized,
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

impl CancelJob<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let accounts = ctx.accounts;
        require!(
            accounts.job.state == JobState::Open,
            ConcordError::InvalidJobState
        );
        require!(accounts.job.slots.is_empty(), ConcordError::JobHasClaims);
        let outcome = settlement::finalize(
            &mut accounts.market,
            &mut accounts.job,
            &mut [],
            JobState::Cancelled,
            now,
        )?;
        let delivered = settlement::deliver_refund(
            &mut accounts.market,
            &mut accounts.job,
            &accounts.token_program,
            &accounts.vault,
            &accounts.mint,
            &accounts.destination.to_account_info(),
        )?;
        require!(delivered, ConcordError::RefundAccountUnusable);
        settlement::emit_finalized(&accounts.job, outcome, delivered);
        Ok(())
    }
}
