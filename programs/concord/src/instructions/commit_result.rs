use anchor_lang::prelude::*;
use solana_sdk_ids::sysvar::slot_hashes;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::{JobStateChanged, ResultCommitted};
use crate::settlement::{self, DrawEnd, NodeSet};
use crate::state::{Job, JobState, Market, Node, Pool};

/// Commits `sha256("concord-commit-v2" ‖ job ‖ node ‖ digest ‖ salt)` for the node's seat,
/// before the commit deadline. If the job has not been drawn yet, this commit draws it first
/// (as `draw_job` would), and must then pass the other seat holders' node accounts.
///
/// Remaining accounts (only while the job is undrawn): the node account of every seat the draw
/// picks except the committer's own, writable, in seat order.
#[derive(Accounts)]
pub struct CommitResult<'info> {
    pub operator: Signer<'info>,

    #[account(
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

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,

    /// CHECK: the SlotHashes sysvar, read raw when this commit draws the job.
    #[account(address = slot_hashes::ID)]
    pub slot_hashes: UncheckedAccount<'info>,
}

impl<'info> CommitResult<'info> {
    pub fn handle(ctx: Context<'info, Self>, commitment: [u8; 32]) -> Result<()> {
        let clock = Clock::get()?;
        let accounts = ctx.accounts;
        if accounts.job.state == JobState::Open {
            let market_key = accounts.market.key();
            let mut nodes = NodeSet::load(
                Some(&mut accounts.node),
                ctx.remaining_accounts,
                &market_key,
            )?;
            let mut pool = accounts.pool.load_mut()?;
            let hashes = accounts.slot_hashes.try_borrow_data()?;
            let end = settlement::perform_draw(
                &accounts.market,
                &mut accounts.job,
                &mut pool,
                &hashes,
                &mut nodes,
                clock.unix_timestamp,
                clock.slot,
            )?;
            require!(end == DrawEnd::Assigned, ConcordError::DrawUnstaffed);
            nodes.exit(ctx.program_id)?;
        }
        let node_key = accounts.node.key();
        let job_key = accounts.job.key();
        let job = &mut accounts.job;
        let index = job
            .seat_index(&node_key)
            .ok_or(ConcordError::SeatNotFound)?;
        let complete = job.commit(index, commitment, clock.unix_timestamp)?;
        accounts.node.last_active = clock.unix_timestamp;
        crate::events::emit(ResultCommitted {
            job: job_key,
            node: node_key,
            commitment,
        });
        if complete {
            crate::events::emit(JobStateChanged {
                job: job_key,
                from: JobState::Assigned,
                to: JobState::Revealing,
                at: clock.unix_timestamp,
            });
        }
        Ok(())
    }
}
