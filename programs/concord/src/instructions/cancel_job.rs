use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::settlement::{self, NodeSet, Payout};
use crate::state::{Job, JobState, Market};

/// Cancels an undrawn job in its creation slot and refunds the whole escrow, fee included, to a
/// token account of the buyer's choice. Later the slot hash that seeds the draw is public, and
/// a buyer who could still cancel could re-roll the committee until it suited them; an undrawn
/// job expires with a full refund after the draw horizon instead.
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

impl<'info> CancelJob<'info> {
    pub fn handle(ctx: Context<'info, Self>) -> Result<()> {
        let clock = Clock::get()?;
        let accounts = ctx.accounts;
        require!(
            accounts.job.state == JobState::Open,
            ConcordError::InvalidJobState
        );
        require!(
            clock.slot == accounts.job.created_slot,
            ConcordError::CancelWindowClosed
        );
        let mut nobody = NodeSet::load(None, &[], &accounts.market.key())?;
        let outcome = settlement::finalize(
            &mut accounts.market,
            &mut accounts.job,
            None,
            &mut nobody,
            JobState::Cancelled,
            clock.unix_timestamp,
            clock.slot,
        )?;
        let payout = Payout {
            token_program: &accounts.token_program,
            vault: &accounts.vault,
            mint: &accounts.mint,
            destination: accounts.destination.to_account_info(),
        };
        let delivered =
            settlement::deliver_refund(&mut accounts.market, &mut accounts.job, &payout)?;
        require!(delivered, ConcordError::RefundAccountUnusable);
        settlement::emit_finalized(&accounts.job, outcome, delivered);
        Ok(())
    }
}
