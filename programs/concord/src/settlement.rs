//! The job state machine's transitions that need more than one account: the draw, reassignment
//! at the commit deadline, and the final accounting of a job (payouts, slashes, fee, refund).
//! Handlers call these after their own checks; every node change goes through `Node`'s seat
//! methods and is mirrored into the pool.

use anchor_lang::prelude::*;
use anchor_spl::token_2022::spl_token_2022::{
    extension::{memo_transfer::MemoTransfer, BaseStateWithExtensions, StateWithExtensions},
    state::{Account as SplAccount, AccountState},
};
use anchor_spl::token_interface::{Mint, TokenAccount, TokenInterface};

use crate::constants::*;
use crate::draw::{self, DrawRules};
use crate::errors::ConcordError;
use crate::events::{
    JobDrawn, JobFinalized, JobStateChanged, SeatReassigned, SeatSettled, SkippedNode,
};
use crate::state::{Change, Job, JobState, Market, Node, Pool, SeatEnd, SeatStatus};
use crate::transfers;

/// What `next_transition` says the job should do now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// Nothing is due yet.
    None,
    /// Commit deadline passed with seats that did not commit and backups left: slash the
    /// no-shows, hand their seats to the next backups, start a new commit window.
    Reassign,
    /// Commit deadline passed (or every seat is settled or committed) with ≥ Q commits.
    OpenReveals,
    /// The job reaches this terminal state; every open seat's node must be settled.
    Finalize(JobState),
}

/// The transition due at (`now`, `slot`).
pub fn next_transition(job: &Job, now: i64, slot: u64) -> Transition {
    match job.state {
        JobState::Open if job.draw_expired(slot) => Transition::Finalize(JobState::Expired),
        JobState::Assigned => {
            let waiting = job.seats.iter().any(|s| s.status == SeatStatus::Assigned);
            if waiting && now < job.commit_deadline {
                Transition::None
            } else if waiting
                && job.reassignments < job.max_reassignments
                && !job.backups.is_empty()
            {
                Transition::Reassign
            } else if job.committed_count() >= usize::from(job.quorum) {
                Transition::OpenReveals
            } else {
                Transition::Finalize(JobState::Failed)
            }
        }
        JobState::Revealing if now >= job.reveal_deadline || job.reveals_complete() => {
            if job.quorum_digest().is_some() {
                Transition::Finalize(JobState::Settled)
            } else {
                Transition::Finalize(JobState::Failed)
            }
        }
        _ => Transition::None,
    }
}

/// Node accounts of a transaction, looked up by key: the instruction's own node (a committer or
/// revealer) and the remaining accounts. A key appears once, so no account is written twice.
pub struct NodeSet<'a, 'info> {
    own: Option<&'a mut Account<'info, Node>>,
    others: Vec<Account<'info, Node>>,
}

impl<'a, 'info> NodeSet<'a, 'info> {
    /// Deserialises `remaining` as writable `Node`s of `market`, distinct and not `own`.
    pub fn load(
        own: Option<&'a mut Account<'info, Node>>,
        remaining: &'info [AccountInfo<'info>],
        market: &Pubkey,
    ) -> Result<Self> {
        let mut others: Vec<Account<'info, Node>> = Vec::with_capacity(remaining.len());
        for info in remaining {
            require!(info.is_writable, ConcordError::NodeAccountsMismatch);
            let node = Account::<Node>::try_from(info)?;
            require_keys_eq!(node.market, *market, ConcordError::WrongMarket);
            require!(
                own.as_ref().is_none_or(|o| o.key() != node.key())
                    && others.iter().all(|n| n.key() != node.key()),
                ConcordError::NodeAccountsMismatch
            );
            others.push(node);
        }
        Ok(NodeSet { own, others })
    }

    /// The node account `key`: the own node, or one of the remaining accounts.
    pub fn get(&mut self, key: &Pubkey) -> Option<&mut Account<'info, Node>> {
        if let Some(own) = self.own.as_deref_mut() {
            if own.key() == *key {
                return Some(own);
            }
        }
        self.others.iter_mut().find(|n| n.key() == *key)
    }

    /// The remaining accounts must be exactly `keys` (minus the own node), in this order.
    pub fn expect_exactly(&self, keys: &[Pubkey]) -> Result<()> {
        let own = self.own.as_ref().map(|o| o.key());
        let expected = keys.iter().filter(|k| Some(**k) != own);
        require!(
            expected.clone().count() == self.others.len()
                && expected.zip(&self.others).all(|(k, n)| *k == n.key()),
            ConcordError::NodeAccountsMismatch
        );
        Ok(())
    }

    /// Like [`expect_exactly`](Self::expect_exactly), for any one of `layouts`.
    pub fn expect_one_of(&self, layouts: &[&[Pubkey]]) -> Result<()> {
        require!(
            layouts.iter().any(|keys| self.expect_exactly(keys).is_ok()),
            ConcordError::NodeAccountsMismatch
        );
        Ok(())
    }

    /// Writes the remaining accounts back (the own node is written by Anchor).
    pub fn exit(&self, program_id: &Pubkey) -> Result<()> {
        for n in &self.others {
            n.exit(program_id)?;
        }
        Ok(())
    }
}

/// How a draw ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DrawEnd {
    /// Seats taken, collateral locked: the job is Assigned.
    Assigned,
    /// Past the horizon, or not enough eligible nodes: the job must expire.
    Unstaffed,
}

/// Draws the job's committee at (`now`, `slot`) from the pool snapshot of its creation epoch and
/// the hash of its creation slot (`slot_hashes`: the SlotHashes sysvar's data). The nodes must
/// hold exactly the seat holders, in seat order.
#[allow(clippy::too_many_arguments)]
pub fn perform_draw(
    market: &Market,
    job: &mut Account<Job>,
    pool: &mut Pool,
    slot_hashes: &[u8],
    nodes: &mut NodeSet,
    now: i64,
    slot: u64,
) -> Result<DrawEnd> {
    require!(job.state == JobState::Open, ConcordError::AlreadyDrawn);
    require!(slot > job.created_slot, ConcordError::DrawTooEarly);
    if job.draw_expired(slot) {
        return Ok(DrawEnd::Unstaffed);
    }
    require!(!market.paused, ConcordError::MarketPaused);
    let hash =
        draw::slot_hash(slot_hashes, job.created_slot).ok_or(ConcordError::SlotHashUnavailable)?;
    let seed = draw::seed(&hash, &job.key());
    let rules = draw_rules(job);
    let seats = usize::from(job.replication);
    let backups = if job.max_reassignments > 0 {
        usize::from(MAX_BACKUPS)
    } else {
        0
    };
    let epoch = pool.epoch_of(job.created_slot);
    let Some(result) = draw::draw(pool, epoch, &seed, &rules, seats, backups) else {
        return Ok(DrawEnd::Unstaffed);
    };
    let job_key = job.key();
    for (index, reason) in &result.skipped {
        crate::events::emit(SkippedNode {
            job: job_key,
            node: pool.entries[*index as usize].node,
            reason: *reason,
        });
    }
    if !result.is_staffed(seats) {
        return Ok(DrawEnd::Unstaffed);
    }
    let seat_keys: Vec<Pubkey> = result
        .seats
        .iter()
        .map(|i| pool.entries[*i as usize].node)
        .collect();
    let backup_keys: Vec<Pubkey> = result
        .backups
        .iter()
        .map(|i| pool.entries[*i as usize].node)
        .collect();
    nodes.expect_exactly(&seat_keys)?;
    for key in &seat_keys {
        let node = nodes.get(key).ok_or(ConcordError::NodeAccountsMismatch)?;
        node.lock_seat(job.collateral_per_seat)?;
        node.last_active = now;
        pool.reconcile(*key, node, slot, Change::Protocol)?;
    }
    job.assign(seat_keys.clone(), backup_keys.clone(), seed, slot, now)?;
    crate::events::emit(JobDrawn {
        job: job_key,
        seed,
        seats: seat_keys,
        backups: backup_keys,
        attempts: result.attempts,
        commit_deadline: job.commit_deadline,
    });
    crate::events::emit(JobStateChanged {
        job: job_key,
        from: JobState::Open,
        to: JobState::Assigned,
        at: now,
    });
    Ok(DrawEnd::Assigned)
}

/// The rules a job's draw applies.
pub fn draw_rules(job: &Job) -> DrawRules {
    DrawRules {
        requirements: job.requirements,
        price: job.price,
        collateral: job.collateral_per_seat,
        min_stake: job.min_stake,
        created_slot: job.created_slot,
    }
}

/// One reassignment round: every seat that did not commit is slashed and handed to the next
/// backup that can still take it (available, active, enough free stake). Returns how many
/// seats found a backup; the commit deadline is extended only if one did.
pub fn reassign(
    market: &mut Market,
    job: &mut Account<Job>,
    pool: &mut Pool,
    nodes: &mut NodeSet,
    now: i64,
    slot: u64,
) -> Result<usize> {
    let job_key = job.key();
    let collateral = job.collateral_per_seat;
    let mut replaced = 0;
    for i in 0..job.seats.len() {
        if job.seats[i].status != SeatStatus::Assigned {
            continue;
        }
        let holder = job.seats[i].node;
        let node = nodes
            .get(&holder)
            .ok_or(ConcordError::NodeAccountsMismatch)?;
        let amount = node.end_seat(collateral, SeatEnd::Missed)?;
        market.take_slash(amount)?;
        pool.reconcile(holder, node, slot, Change::Protocol)?;
        crate::events::emit(SeatSettled {
            job: job_key,
            node: holder,
            outcome: SeatStatus::Slashed,
            amount,
        });
        job.seats[i].status = SeatStatus::Slashed;

        while let Some(backup) = job.next_backup() {
            let node = nodes
                .get(&backup)
                .ok_or(ConcordError::NodeAccountsMismatch)?;
            if !node.in_draw() || node.free_stake() < collateral {
                continue; // left the pool or fully committed elsewhere since the draw
            }
            node.lock_seat(collateral)?;
            node.last_active = now;
            pool.reconcile(backup, node, slot, Change::Protocol)?;
            job.reassign(i, backup);
            crate::events::emit(SeatReassigned {
                job: job_key,
                seat: i as u8,
                from: holder,
                to: backup,
            });
            replaced += 1;
            break;
        }
    }
    job.reassignments += 1;
    if replaced > 0 {
        job.commit_deadline = now
            .checked_add(job.execution_window)
            .ok_or(ConcordError::MathOverflow)?;
    }
    Ok(replaced)
}

/// Assigned → Revealing at the commit deadline.
pub fn open_reveals(job: &mut Account<Job>, now: i64) -> Result<()> {
    job.open_reveals(now)?;
    crate::events::emit(JobStateChanged {
        job: job.key(),
        from: JobState::Assigned,
        to: JobState::Revealing,
        at: now,
    });
    Ok(())
}

/// Totals of a finalised job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub paid: u64,
    pub slashed: u64,
    pub fee: u64,
    pub refund: u64,
}

/// Moves the job to the terminal state `to`, settling every open seat against its node, and
/// updates the market's totals. The refund is left in `job.escrow`; the caller delivers it.
#[allow(clippy::too_many_arguments)]
pub fn finalize(
    market: &mut Market,
    job: &mut Account<Job>,
    pool: Option<&mut Pool>,
    nodes: &mut NodeSet,
    to: JobState,
    now: i64,
    slot: u64,
) -> Result<Outcome> {
    let winner = match to {
        JobState::Settled => job.quorum_digest(),
        _ => None,
    };
    // A job that failed at the commit deadline never had a reveal phase: its committers are
    // released, like revealers of a job without quorum.
    let committers_excused = job.state == JobState::Assigned;
    let collateral = job.collateral_per_seat;
    let reward = job.reward_per_worker;
    let job_key = job.key();
    let mut outcome = Outcome::default();
    let mut pool = pool;

    for seat in job.seats.iter_mut().filter(|s| s.status.is_open()) {
        let end = match (to, seat.status) {
            (JobState::Settled, SeatStatus::Revealed) if Some(seat.digest) == winner => {
                SeatEnd::Paid { reward }
            }
            (JobState::Settled, SeatStatus::Revealed) => SeatEnd::Dissented,
            (JobState::Failed, SeatStatus::Revealed) => SeatEnd::Released,
            (JobState::Failed, SeatStatus::Committed) if committers_excused => SeatEnd::Released,
            (JobState::Expired | JobState::Cancelled, _) => SeatEnd::Released,
            _ => SeatEnd::Missed,
        };
        let node = nodes
            .get(&seat.node)
            .ok_or(ConcordError::NodeAccountsMismatch)?;
        let amount = node.end_seat(collateral, end)?;
        let pool = pool.as_deref_mut().ok_or(ConcordError::WrongPool)?;
        pool.reconcile(seat.node, node, slot, Change::Protocol)?;
        let status = match end {
            SeatEnd::Paid { .. } => {
                outcome.paid = outcome
                    .paid
                    .checked_add(amount)
                    .ok_or(ConcordError::MathOverflow)?;
                SeatStatus::Paid
            }
            SeatEnd::Dissented | SeatEnd::Missed => {
                outcome.slashed = outcome
                    .slashed
                    .checked_add(amount)
                    .ok_or(ConcordError::MathOverflow)?;
                SeatStatus::Slashed
            }
            SeatEnd::Released => SeatStatus::Released,
        };
        seat.status = status;
        crate::events::emit(SeatSettled {
            job: job_key,
            node: seat.node,
            outcome: status,
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
    market.take_slash(outcome.slashed)?;
    market.treasury = market
        .treasury
        .checked_add(outcome.fee)
        .ok_or(ConcordError::MathOverflow)?;

    let from = job.state;
    job.escrow = outcome.refund;
    job.accepted_digest = winner;
    job.state = to;
    job.finalized_at = now;
    crate::events::emit(JobStateChanged {
        job: job_key,
        from,
        to,
        at: now,
    });
    Ok(outcome)
}

/// The token accounts that settle a job's money.
pub struct Payout<'a, 'info> {
    pub token_program: &'a Interface<'info, TokenInterface>,
    pub vault: &'a InterfaceAccount<'info, TokenAccount>,
    pub mint: &'a InterfaceAccount<'info, Mint>,
    pub destination: AccountInfo<'info>,
}

/// Sends a terminal job's pending refund (`job.escrow`) to the destination if it can receive it
/// (a live, unfrozen token account of the market's mint that does not demand transfer memos);
/// otherwise leaves it pending for `settle_job` or `close_job`, so a buyer who closed, froze or
/// reconfigured the refund account can never block settlement.
/// Returns whether the refund was delivered (trivially true when nothing is owed).
pub fn deliver_refund<'info>(
    market: &mut Account<'info, Market>,
    job: &mut Account<'info, Job>,
    payout: &Payout<'_, 'info>,
) -> Result<bool> {
    let refund = job.escrow;
    if refund == 0 {
        return Ok(true);
    }
    if !is_live_token_account(&payout.destination, &market.token_program, &market.mint) {
        return Ok(false);
    }
    job.escrow = 0;
    market.total_escrow = market
        .total_escrow
        .checked_sub(refund)
        .ok_or(ConcordError::MathOverflow)?;
    transfers::out_of_vault(
        market,
        payout.token_program,
        payout.vault,
        payout.mint,
        payout.destination.clone(),
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
    crate::events::emit(JobFinalized {
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

/// The node accounts `settle_job` takes: the seat holders in seat order, then the backups.
pub fn seats_then_backups(job: &Job) -> Vec<Pubkey> {
    job.seats
        .iter()
        .map(|s| s.node)
        .chain(job.backups.iter().copied())
        .collect()
}

/// Applies every transition due at (`now`, `slot`), finalising and refunding when the job
/// reaches a terminal state. Used by `settle_job` and by the reveal that completes the set.
#[allow(clippy::too_many_arguments)]
pub fn advance<'info>(
    market: &mut Account<'info, Market>,
    job: &mut Account<'info, Job>,
    pool: &mut Pool,
    nodes: &mut NodeSet,
    payout: &Payout<'_, 'info>,
    now: i64,
    slot: u64,
) -> Result<()> {
    loop {
        match next_transition(job, now, slot) {
            Transition::None => return Ok(()),
            Transition::Reassign => {
                nodes.expect_exactly(&seats_then_backups(job))?;
                reassign(market, job, pool, nodes, now, slot)?;
            }
            Transition::OpenReveals => open_reveals(job, now)?,
            Transition::Finalize(to) => {
                // The seat holders in seat order, with or without the backups after them.
                let seats: Vec<Pubkey> = job.seats.iter().map(|s| s.node).collect();
                nodes.expect_one_of(&[&seats, &seats_then_backups(job)])?;
                let outcome = finalize(market, job, Some(pool), nodes, to, now, slot)?;
                let delivered = deliver_refund(market, job, payout)?;
                emit_finalized(job, outcome, delivered);
                return Ok(());
            }
        }
    }
}
