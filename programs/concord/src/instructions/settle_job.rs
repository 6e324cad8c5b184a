use anchor_lang::prelude::*;
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::RefundDelivered;
use crate::settlement::{self, NodeSet, Payout};
use crate::state::{Job, Market, Pool};

/// Permissionless crank: applies every transition that time or completeness allows (expiry of
/// an undrawn job past its horizon, reassignment or the reveal phase at the commit deadline,
/// settlement at the reveal deadline) and on a terminal transition pays, slashes, takes the fee
/// and refunds the buyer. On a terminal job it delivers a refund still pending. Idempotent: a
/// call with nothing due succeeds and changes nothing.
///
/// Remaining accounts: the node account of every seat, writable, in seat order, then those of
/// the job's backups in order. They are needed only for a reassignment or a terminal
/// transition.
#[derive(Accounts)]
pub struct SettleJob<'info> {
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
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,

    #[account(mut, address = market.vault @ ConcordError::WrongVault)]
    pub vault: InterfaceAccount<'info, TokenAccount>,

    #[account(address = market.mint @ ConcordError::WrongMint)]
    pub mint: InterfaceAccount<'info, Mint>,

    /// CHECK: must be the refund account recorded at job creation; it receives the refund if it
    /// is still a live token account of the mint (see `settlement::deliver_refund`).
    #[account(mut, address = job.refund_account @ ConcordError::WrongRefundAccount)]
    pub refund_account: UncheckedAccount<'info>,

    #[account(address = market.token_program @ ConcordError::WrongTokenProgram)]
    pub token_program: Interface<'info, TokenInterface>,
}

impl<'info> SettleJob<'info> {
    pub fn handle(ctx: Context<'info, Self>) -> Result<()> {
        let clock = Clock::get()?;
        let accounts = ctx.accounts;
        let payout = Payout {
            token_program: &accounts.token_program,
            vault: &accounts.vault,
            mint: &accounts.mint,
            destination: accounts.refund_account.to_account_info(),
        };
        if accounts.job.state.is_terminal() {
            let pending = accounts.job.escrow;
            if pending > 0
                && settlement::deliver_refund(&mut accounts.market, &mut accounts.job, &payout)?
            {
                crate::events::emit(RefundDelivered {
                    job: accounts.job.key(),
                    amount: pending,
                });
            }
            return Ok(());
        }
        let market_key = accounts.market.key();
        let mut nodes = NodeSet::load(None, ctx.remaining_accounts, &market_key)?;
        let mut pool = accounts.pool.load_mut()?;
        settlement::advance(
            &mut accounts.market,
            &mut accounts.job,
            &mut pool,
            &mut nodes,
            &payout,
            clock.unix_timestamp,
            clock.slot,
        )?;
        nodes.exit(ctx.program_id)
    }
}
