use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::{JobStateChanged, ResultCommitted};
use crate::state::{Job, JobState, Node, SlotStatus};

/// Commits `sha256("concord-commit-v1" ‖ job ‖ node ‖ digest ‖ salt)` for the node's slot.
/// Allowed as soon as the slot is claimed, until the commit deadline.
#[derive(Accounts)]
pub struct CommitResult<'info> {
    pub operator: Signer<'info>,

    #[account(
        mut,
        seeds = [NODE_SEED, node.market.as_ref(), node.operator.as_ref()],
        bump = node.bump,
        has_one = operator @ ConcordError::Unauthorized,
    )]
    pub node: Account<'info, Node>,

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        constraint = job.market == node.market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,
}

impl CommitResult<'_> {
    pub fn handle(ctx: Context<Self>, commitment: [u8; 32]) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let node = &mut ctx.accounts.node;
        let job = &mut ctx.accounts.job;

        let open = match job.state {
            JobState::Open => now < job.claim_deadline,
            JobState::Running => now < job.commit_deadline,
            JobState::Revealing => false,
            _ => return err!(ConcordError::InvalidJobState),
        };
        let index = job
            .slot_index(&node.key())
            .ok_or(ConcordError::SlotNotFound)?;
        require!(
            job.slots[index].status == SlotStatus::Claimed,
            ConcordError::AlreadyCommitted
        );
        require!(open, ConcordError::CommitWindowClosed);

        let slot = &mut job.slots[index];
        slot.status = SlotStatus::Committed;
        slot.commitment = commitment;
        node.last_active = now;
        emit!(ResultCommitted {
            job: job.key(),
            node: node.key(),
            commitment,
        });

        if job.state == JobState::Running && job.committed_count() == job.slots.len() {
            job.state = JobState::Revealing;
            job.reveal_deadline = now
                .checked_add(job.reveal_window)
                .ok_or(ConcordError::MathOverflow)?;
            emit!(JobStateChanged {
                job: job.key(),
                from: JobState::Running,
                to: JobState::Revealing,
                at: now,
            });
        }
        Ok(())
    }
}
