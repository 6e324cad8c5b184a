//! The job state machine's time- and completeness-driven transitions, and the final accounting
//! of a job (payouts, slashes, fee and refund).

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{memo_transfer::MemoTransfer, BaseStateWithExtensions, StateWithExtensions},
    state::{Account as SplAccount, AccountState},
};
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::errors::ConcordError;
use crate::events::{JobFinalized, JobStateChanged, SlotSettled};
use crate::state::{Job, JobState, Market, Node, SlotStatus};
use crate::transfers;

/// What `next_transition` says the job should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Nothing is due yet.
    None,
    /// Commit deadline passed with ≥ Q commits: open the reveal phase (no node account needed).
    OpenReveals,
    /// The job reaches this terminal state; every slot's node must be settled.
    Finalize(JobState),
}

/// The transition time or completeness allows at `now`.
pub fn next_transition(job: &Job, now: i64) -> Transition {
    match job.state {
        JobState::Open if now >= job.claim_deadline => Transition::Finalize(JobState::Expired),
        JobState::Running if now >= job.commit_deadline => {
            if job.committed_count() >= usize::from(job.quorum) {
                Transition::OpenReveals
            } else {
                Transition::Finalize(JobState::Failed)
            }
        }
        JobState::Revealing
            if now >= job.reveal_deadline || job.revealed_count() == job.committed_count() =>
        {
            if job.quorum_digest().is_some() {
                Transition::Finalize(JobState::Settled)
            } else {
                Transition::Finalize(JobState::Failed)
            }
        }
        _ => Transition::None,
    }
}

/// Applies the reveal-phase opening if it is due. Returns whether the job changed.
pub fn open_reveals_if_due(job: &mut Account<Job>, now: i64) -> Result<bool> {
    if next_transition(job, now) != Transition::OpenReveals {
        return Ok(false);
    }
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
    Ok(true)
}

/// Totals of a finalised job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub paid: u64,
    pub slashed: u64,
    pub fee: u64,
    pub refund: u64,
}

/// Moves the job to the terminal state `to`, settling every slot against its node account
/// (`nodes[i]` belongs to `job.slots[i]`), and updates the market's totals. The refund is left in
/// `job.escrow`; the caller delivers it.
pub fn finalize(
    market: &mut Account<Market>,
    job: &mut Account<Job>,
    nodes: &mut [Account<Node>],
    to: JobState,
    now: i64,
) -> Result<Outcome> {
    require!(
        nodes.len() == job.slots.len(),
        ConcordError::NodeAccountsMismatch
    );
    let winner = match to {
        JobState::Settled => job.quorum_digest(),
        _ => None,
    };
    // A job that failed at the commit deadline never had a reveal phase: its committers are
    // released, like revealers of a job without quorum.
    let committers_excused = job.state == JobState::Running;
    let collateral = job.collateral_per_slot;
    let reward = job.reward_per_worker;
    let job_key = job.key();
    let market_key = market.key();
    let mut outcome = Outcome::default();

    for (slot, node) in job.slots.iter_mut().zip(nodes.iter_mut()) {
        require_keys_eq!(slot.node, node.key(), ConcordError::NodeAccountsMismatch);
        require_keys_eq!(node.market, market_key, ConcordError::WrongMarket);

        let new_status = match (to, slot.status) {
            (JobState::Expired | JobState::Cancelled, _) => SlotStatus::Released,
            (JobState::Settled, SlotStatus::Revealed) if Some(slot.digest) == winner => {
                SlotStatus::Paid
            }
            (JobState::Failed, SlotStatus::Revealed) => SlotStatus::Released,
            (JobState::Failed, SlotStatus::Committed) if committers_excused => SlotStatus::Released,
            _ => SlotStatus::Slashed,
        };

        node.locked_collateral = node
            .locked_collateral
            .checked_sub(collateral)
            .ok_or(ConcordError::MathOverflow)?;
        node.active_slots = node
            .active_slots
            .checked_sub(1)
            .ok_or(ConcordError::MathOverflow)?;
        let amount = match new_status {
            SlotStatus::Paid => {
                node.earnings = node
                    .earnings
                    .checked_add(reward)
                    .ok_or(ConcordError::MathOverflow)?;
                node.agreed = node
                    .agreed
                    .checked_add(1)
                    .ok_or(ConcordError::MathOverflow)?;
                outcome.paid = outcome
                    .paid
                    .checked_add(reward)
                    .ok_or(ConcordError::MathOverflow)?;
                reward
            }
            SlotStatus::Slashed => {
                node.stake = node
                    .stake
                    .checked_sub(collateral)
                    .ok_or(ConcordError::MathOverflow)?;
                if slot.status == SlotStatus::Revealed {
                    node.dissented = node
                        .dissented
                        .checked_add(1)
                        .ok_or(ConcordError::MathOverflow)?;
                } else {
                    node.missed = node
                        .missed
                        .checked_add(1)
                        .ok_or(ConcordError::MathOverflow)?;
                }
                outcome.slashed = outcome
                    .slashed
                    .checked_add(collateral)
                    .ok_or(ConcordError::MathOverflow)?;
                collateral
            }
            _ => 0,
        };
        slot.status = new_status;
        emit!(SlotSettled {
            job: job_key,
            node: node.key(),
            outcome: new_status,
            amount,
        });
    }

    if to == JobState::Settled {
        outcome.fee = job.fee;
    }
    outcome.refund = job
        .escrow
        .checked_sub(outcome.paid)
        .and_then(|r| r.checked_sub(outcome.fee))
        .ok_or(ConcordError::MathOverflow)?;

    // Market totals: rewards move from escrow to earnings, the fee from escrow to the treasury,
    // slashed collateral from stake to the treasury. The refund stays in escrow until delivered.
    market.total_escrow = market
        .total_escrow
        .checked_sub(outcome.paid)
        .and_then(|v| v.checked_sub(outcome.fee))
        .ok_or(ConcordError::MathOverflow)?;
    market.total_earnings = market
        .total_earnings
        .checked_add(outcome.paid)
        .ok_or(ConcordError::MathOverflow)?;
    market.total_stake = market
        .total_stake
        .checked_sub(outcome.slashed)
        .ok_or(ConcordError::MathOverflow)?;
    market.treasury = market
        .treasury
        .checked_add(outcome.fee)
        .and_then(|v| v.checked_add(outcome.slashed))
        .ok_or(ConcordError::MathOverflow)?;

    let from = job.state;
    job.escrow = outcome.refund;
    job.accepted_digest = winner;
    job.state = to;
    job.finalized_at = now;
    emit!(JobStateChanged {
        job: job_key,
        from,
        to,
        at: now,
    });
    Ok(outcome)
}

/// Sends a terminal job's pending refund (`job.escrow`) to `destination` if it can receive it (a
/// live, unfrozen token account of the market's mint that does not demand transfer memos);
/// otherwise leaves it pending for `close_job`, so a buyer who closed, froze or reconfigured the
/// refund account can never block settlement.
/// Returns whether the refund was delivered (trivially true when nothing is owed).
pub fn deliver_refund<'info>(
    market: &mut Account<'info, Market>,
    job: &mut Account<'info, Job>,
    token_program: &Interface<'info, TokenInterface>,
    vault: &InterfaceAccount<'info, TokenAccount>,
    mint: &InterfaceAccount<'info, Mint>,
    destination: &AccountInfo<'info>,
) -> Result<bool> {
    let refund = job.escrow;
    if refund == 0 {
        return Ok(true);
    }
    if !is_live_token_account(destination, &market.token_program, &market.mint) {
        return Ok(false);
    }
    job.escrow = 0;
    market.total_escrow = market
        .total_escrow
        .checked_sub(refund)
        .ok_or(ConcordError::MathOverflow)?;
    transfers::out_of_vault(
        market,
        token_program,
        vault,
        mint,
        destination.clone(),
        refund,
    )?;
    Ok(true)
}

fn is_live_token_account(info: &AccountInfo, token_program: &Pubkey, mint: &Pubkey) -> bool {
    if info.owner != token_program {
        return false;
    }
    let Ok(data) = info.try_borrow_data() else {
        return false;
    };
    match StateWithExtensions::<SplAccount>::unpack(&data) {
        Ok(account) => {
            let memo_required = account
                .get_extension::<MemoTransfer>()
                .is_ok_and(|m| bool::from(m.require_incoming_transfer_memos));
            account.base.mint == *mint
                && account.base.state == AccountState::Initialized
                && !memo_required
        }
        Err(_) => false,
    }
}

/// Emits the summary event of a finalised job.
pub fn emit_finalized(job: &Account<Job>, outcome: Outcome, refund_delivered: bool) {
    emit!(JobFinalized {
        job: job.key(),
        state: job.state,
        accepted_digest: job.accepted_digest,
        paid: outcome.paid,
        slashed: outcome.slashed,
        fee: outcome.fee,
        refund: outcome.refund,
        refund_delivered,
    });
}
