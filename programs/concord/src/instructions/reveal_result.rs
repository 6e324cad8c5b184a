use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::ResultRevealed;
use crate::settlement;
use crate::state::{commitment, Job, JobState, Node, SlotStatus};

/// Reveals the output digest, the salt and the output URI of a committed slot. Accepted only
/// in the reveal phase; if the commit deadline has passed with at least Q commits, the reveal
/// phase is opened first.
#[derive(Accounts)]
pub struct RevealResult<'info> {
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

impl RevealResult<'_> {
    pub fn handle(
        ctx: Context<Self>,
        digest: [u8; 32],
        salt: [u8; 32],
        output_uri: String,
    ) -> Result<()> {
        require!(
            !output_uri.is_empty() && output_uri.len() <= MAX_URI_LEN,
            ConcordError::InvalidUri
        );
        let now = Clock::get()?.unix_timestamp;
        let node = &mut ctx.accounts.node;
        let job = &mut ctx.accounts.job;
        settlement::open_reveals_if_due(job, now)?;
        match job.state {
            JobState::Open | JobState::Running => return err!(ConcordError::RevealNotOpen),
            JobState::Revealing => {}
            _ => return err!(ConcordError::InvalidJobState),
        }
        require!(now < job.reveal_deadline, ConcordError::RevealWindowClosed);
        let index = job
            .slot_index(&node.key())
            .ok_or(ConcordError::SlotNotFound)?;
        require!(
            job.slots[index].status == SlotStatus::Committed,
            ConcordError::NotCommitted
        );
        require!(
            commitment(&job.key(), &node.key(), &digest, &salt) == job.slots[index].commitment,
            ConcordError::CommitmentMismatch
        );

        let slot = &mut job.slots[index];
        slot.status = SlotStatus::Revealed;
        slot.digest = digest;
        slot.output_uri = output_uri.clone();
        node.last_active = now;
        emit!(ResultRevealed {
            job: job.key(),
            node: node.key(),
            digest,
            output_uri,
        });
        Ok(())
    }
}
