use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::events::{JobClaimed, JobStateChanged};
use crate::state::{Job, JobState, Market, Node, Slot, SlotStatus};

/// Takes a slot of an open job and locks `collateral_per_slot` of the node's stake.
#[derive(Accounts)]
pub struct ClaimJob<'info> {
    pub operator: Signer<'info>,

    #[account(
        seeds = [MARKET_SEED, market.authority.as_ref(), &market.market_id.to_le_bytes()],
        bump = market.bump,
        constraint = !market.paused @ ConcordError::MarketPaused,
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

    #[account(
        mut,
        seeds = [JOB_SEED, job.market.as_ref(), &job.job_id.to_le_bytes()],
        bump = job.bump,
        has_one = market @ ConcordError::WrongMarket,
    )]
    pub job: Account<'info, Job>,
}

impl ClaimJob<'_> {
    pub fn handle(ctx: Context<Self>) -> Result<()> {
        let now = Clock::get()?.unix_timestamp;
        let market = &ctx.accounts.market;
        let node = &mut ctx.accounts.node;
        let job = &mut ctx.accounts.job;

        require!(job.state == JobState::Open, ConcordError::InvalidJobState);
        require!(now < job.claim_deadline, ConcordError::ClaimWindowClosed);
        require!(node.is_active(), ConcordError::NodeUnbonding);
        require!(
            job.slot_index(&node.key()).is_none(),
            ConcordError::DuplicateClaim
        );
        require!(
            job.slots.len() < usize::from(job.replication),
            ConcordError::JobFull
        );
        let req = &job.requirements;
        require!(
            node.spec.vram_mib >= req.min_vram_mib
                && node.spec.compute_capability >= req.min_compute_capability
                && node.spec.backends & req.backends != 0,
            ConcordError::RequirementsNotMet
        );
        require!(
            node.stake >= market.params.min_stake,
            ConcordError::InsufficientStake
        );
        require!(
            node.free_stake() >= job.collateral_per_slot,
            ConcordError::InsufficientFreeStake
        );

        node.locked_collateral = node
            .locked_collateral
            .checked_add(job.collateral_per_slot)
            .ok_or(ConcordError::MathOverflow)?;
        node.active_slots = node
            .active_slots
            .checked_add(1)
            .ok_or(ConcordError::MathOverflow)?;
        node.claimed = node
            .claimed
            .checked_add(1)
            .ok_or(ConcordError::MathOverflow)?;
        node.last_active = now;

        let slot = job.slots.len() as u8;
        job.slots.push(Slot {
            node: node.key(),
            status: SlotStatus::Claimed,
            commitment: [0; 32],
            digest: [0; 32],
            output_uri: String::new(),
        });
        emit!(JobClaimed {
            job: job.key(),
            node: node.key(),
            slot,
            collateral: job.collateral_per_slot,
        });

        if job.slots.len() == usize::from(job.replication) {
            job.state = JobState::Running;
            job.commit_deadline = now
                .checked_add(job.execution_window)
                .ok_or(ConcordError::MathOverflow)?;
            emit!(JobStateChanged {
                job: job.key(),
                from: JobState::Open,
                to: JobState::Running,
                at: now,
            });
        }
        Ok(())
    }
}
