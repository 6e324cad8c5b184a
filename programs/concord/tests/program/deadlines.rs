//! Every deadline path: the draw horizon, unstaffed draws, the commit deadline (reveals opened,
//! reassignment to backups, failure), the reveal deadline, and settle_job's idempotence.

use crate::harness::*;
use anchor_lang::prelude::Pubkey;
use anchor_lang::{InstructionData, ToAccountMetas};
use concord::errors::ConcordError as E;
use concord::state::{JobState, SeatStatus};
use solana_sdk::instruction::Instruction;

const REWARD: u64 = 10 * UNIT;
const BUYER_FUNDS: u64 = 1_000 * UNIT;
const STAKE: u64 = 200 * UNIT;

fn collateral() -> u64 {
    default_params().collateral_for(REWARD).unwrap()
}

/// A market with `pool` drawable nodes and a buyer.
async fn setup(pool: usize) -> (Env, User) {
    let mut env = Env::new().await;
    let buyer = env.user(BUYER_FUNDS).await;
    env.operators(pool, STAKE).await;
    (env, buyer)
}

/// A job of N = `n`, Q = `q`, drawn by the crank; returns it and its seat holders.
async fn drawn(env: &mut Env, buyer: &User, n: u8, q: u8) -> (Pubkey, Vec<Pubkey>) {
    let job = env.create_job(buyer, job_args(n, q, REWARD)).await;
    let seats = env.draw(job).await;
    assert_eq!(env.job(job).await.state, JobState::Assigned);
    (job, seats)
}

async fn node_tuple(env: &mut Env, node: Pubkey) -> (u64, u64, u16, u64) {
    let n = env.node(node).await;
    (n.stake, n.locked_collateral, n.active_seats, n.missed)
}

#[tokio::test]
async fn an_undrawn_job_expires_after_its_horizon_with_a_full_refund() {
    let (mut env, buyer) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(HORIZON).await;
    // Within the horizon settle_job has nothing to do.
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Open);
    env.warp(1).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Expired);
    assert!(j.seats.is_empty());
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS, "fee included");
    assert_eq!(env.market_state().await.treasury, 0);
    // A late draw is refused.
    let ix = env.draw_ix_unchecked(job).await;
    env.send_expect(&[ix], &[], anchor_code(E::AlreadyDrawn))
        .await;
}

#[tokio::test]
async fn a_late_draw_crank_expires_the_job_too() {
    let (mut env, buyer) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(HORIZON + 1).await;
    let ix = env.draw_ix_unchecked(job).await;
    env.send(&[ix], &[]).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Expired);
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
}

#[tokio::test]
async fn the_draw_needs_a_later_slot_so_bundling_it_with_create_job_fails() {
    let (mut env, buyer) = setup(3).await;
    // Same transaction: refused, and the job is not created either.
    let job = env.next_job().await;
    env.jobs.push(job);
    let create = env.create_job_ix(&buyer, job, job_args(1, 1, REWARD));
    let draw = draw_ix_for(&env, job, buyer.token);
    env.send_expect(&[create, draw], &[&buyer.kp], anchor_code(E::DrawTooEarly))
        .await;
    assert!(env.account(job).await.is_none());
    // Same slot, separate transaction: refused as well.
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let ix = env.draw_ix_unchecked(job).await;
    env.send_expect(&[ix], &[], anchor_code(E::DrawTooEarly))
        .await;
    // The next slot works.
    env.warp(1).await;
    assert_eq!(env.draw(job).await.len(), 1);
}

/// `draw_job` for a job that does not exist yet.
fn draw_ix_for(env: &Env, job: Pubkey, refund_account: Pubkey) -> Instruction {
    let info = env.info();
    Instruction {
        program_id: concord::ID,
        accounts: concord::accounts::DrawJob {
            market: info.address,
            pool: info.pool(),
            job,
            slot_hashes: concord_client::ix::SLOT_HASHES,
            vault: info.vault(),
            mint: info.mint(),
            refund_account,
            token_program: info.token_program(),
        }
        .to_account_metas(None),
        data: concord::instruction::DrawJob {}.data(),
    }
}

#[tokio::test]
async fn a_draw_that_cannot_staff_the_job_expires_it() {
    let (mut env, buyer) = setup(2).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.warp(1).await;
    let preview = env.preview(job).await;
    assert_eq!(preview.seats.len(), 2, "only two nodes in the pool");
    // A commit cannot draw it...
    let node = preview.seats[0];
    let err = env.commit(node, job, digest(1)).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(anchor_code(E::DrawUnstaffed)));
    // ...the crank expires it, with a full refund and no node touched.
    let ix = env.draw_ix(job).await;
    env.send(&[ix], &[]).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Expired);
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
    assert_eq!(node_tuple(&mut env, node).await, (STAKE, 0, 0, 0));
}

#[tokio::test]
async fn commit_deadline_with_a_quorum_of_commits_opens_reveals_and_slashes_the_no_show() {
    // Three nodes for three seats: no backup to reassign to.
    let (mut env, buyer) = setup(3).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    assert!(env.job(job).await.backups.is_empty());
    env.commit(seats[0], job, digest(1)).await.unwrap();
    env.commit(seats[1], job, digest(1)).await.unwrap();
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Assigned);
    env.advance(default_params().execution_window).await;
    let err = env.commit(seats[2], job, digest(1)).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(anchor_code(E::CommitWindowClosed)));
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);
    env.reveal(seats[0], job, digest(1)).await.unwrap();
    env.reveal(seats[1], job, digest(1)).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(
        j.state,
        JobState::Settled,
        "the last reveal of the committed set settles"
    );
    assert_eq!(j.seats[2].status, SeatStatus::Slashed);
    assert_eq!(
        node_tuple(&mut env, seats[2]).await,
        (STAKE - collateral(), 0, 0, 1)
    );
    assert_eq!(
        env.balance(buyer.token).await,
        BUYER_FUNDS - 2 * REWARD - j.fee
    );
}

#[tokio::test]
async fn a_reveal_after_the_commit_deadline_opens_the_phase_without_a_crank() {
    let (mut env, buyer) = setup(3).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    env.commit(seats[0], job, digest(1)).await.unwrap();
    env.commit(seats[1], job, digest(1)).await.unwrap();
    let err = env.reveal(seats[0], job, digest(1)).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(anchor_code(E::RevealNotOpen)));
    env.advance(default_params().execution_window).await;
    env.reveal(seats[0], job, digest(1)).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);
}

#[tokio::test]
async fn a_no_show_is_slashed_and_its_seat_reassigned_to_a_backup_and_the_job_settles() {
    let (mut env, buyer) = setup(6).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    let backups = env.job(job).await.backups;
    assert_eq!(backups.len(), 3);
    env.commit(seats[0], job, digest(1)).await.unwrap();
    env.commit(seats[1], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;
    let deadline_before = env.job(job).await.commit_deadline;
    env.settle(job).await.unwrap();

    let j = env.job(job).await;
    assert_eq!(
        j.state,
        JobState::Assigned,
        "a new commit window for the backup"
    );
    assert_eq!(j.reassignments, 1);
    assert_eq!(
        j.seats[2].node, backups[0],
        "the first backup took the seat"
    );
    assert_eq!(j.seats[2].status, SeatStatus::Assigned);
    assert_eq!(j.backups, backups[1..].to_vec());
    assert!(j.commit_deadline > deadline_before);
    // The no-show lost its collateral; the backup's is locked.
    assert_eq!(
        node_tuple(&mut env, seats[2]).await,
        (STAKE - collateral(), 0, 0, 1)
    );
    assert_eq!(
        node_tuple(&mut env, backups[0]).await,
        (STAKE, collateral(), 1, 0)
    );
    assert_eq!(env.market_state().await.treasury, collateral());

    // The backup commits (the set is complete: reveals open) and everyone reveals.
    env.commit(backups[0], job, digest(1)).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);
    for node in [seats[0], seats[1], backups[0]] {
        env.reveal(node, job, digest(1)).await.unwrap();
    }
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(env.node(backups[0]).await.earnings, REWARD);
    assert_eq!(
        env.balance(buyer.token).await,
        BUYER_FUNDS - 3 * REWARD - j.fee
    );
    assert_eq!(env.market_state().await.treasury, collateral() + j.fee);
}

#[tokio::test]
async fn reassignment_rounds_are_bounded_then_the_job_fails_without_quorum() {
    let (mut env, buyer) = setup(6).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    let backups = env.job(job).await.backups;
    env.commit(seats[0], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;
    env.settle(job).await.unwrap(); // round 1: two no-shows replaced by two backups
    let j = env.job(job).await;
    assert_eq!((j.reassignments, j.state), (1, JobState::Assigned));
    assert_eq!((j.seats[1].node, j.seats[2].node), (backups[0], backups[1]));
    // The backups do not show up either: max_reassignments = 1, so the job fails.
    env.advance(default_params().execution_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(
        j.seats[0].status,
        SeatStatus::Released,
        "the committer is excused"
    );
    for node in [seats[1], seats[2], backups[0], backups[1]] {
        assert_eq!(env.node(node).await.missed, 1, "every no-show is slashed");
    }
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS, "full refund");
    assert_eq!(env.market_state().await.treasury, 4 * collateral());
}

#[tokio::test]
async fn commit_deadline_without_quorum_fails_the_job() {
    let (mut env, buyer) = setup(3).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    env.commit(seats[0], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.seats[0].status, SeatStatus::Released);
    assert_eq!(j.seats[1].status, SeatStatus::Slashed);
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
    assert_eq!(node_tuple(&mut env, seats[0]).await, (STAKE, 0, 0, 0));
    assert_eq!(
        env.market_state().await.treasury,
        2 * collateral(),
        "only the no-shows pay"
    );
}

#[tokio::test]
async fn reveal_deadline_slashes_non_revealers() {
    let (mut env, buyer) = setup(3).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    for node in &seats {
        env.commit(*node, job, digest(1)).await.unwrap();
    }
    env.reveal(seats[0], job, digest(1)).await.unwrap();
    env.reveal(seats[1], job, digest(1)).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);
    env.advance(default_params().reveal_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.seats[2].status, SeatStatus::Slashed);
    assert_eq!(env.node(seats[2]).await.missed, 1);
    assert_eq!(env.node(seats[0]).await.earnings, REWARD);
}

#[tokio::test]
async fn revealed_disagreement_without_quorum_refunds_and_slashes_nobody() {
    let (mut env, buyer) = setup(3).await;
    let (job, seats) = drawn(&mut env, &buyer, 3, 2).await;
    for (i, node) in seats.iter().enumerate() {
        env.commit(*node, job, digest(i as u8)).await.unwrap();
    }
    for (i, node) in seats.iter().enumerate() {
        env.reveal(*node, job, digest(i as u8)).await.unwrap();
    }
    let j = env.job(job).await;
    assert_eq!(
        j.state,
        JobState::Failed,
        "the last reveal settles: no quorum"
    );
    assert!(j.seats.iter().all(|s| s.status == SeatStatus::Released));
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
    assert_eq!(env.market_state().await.treasury, 0);
}

#[tokio::test]
async fn settle_is_idempotent_at_every_state() {
    async fn settle_twice_unchanged(env: &mut Env, job: Pubkey) {
        env.settle(job).await.unwrap();
        let before = env.snapshot().await;
        env.settle(job).await.unwrap();
        assert_eq!(before, env.snapshot().await);
    }
    let (mut env, buyer) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    settle_twice_unchanged(&mut env, job).await; // Open
    let seats = env.draw(job).await;
    settle_twice_unchanged(&mut env, job).await; // Assigned
    for node in &seats {
        env.commit(*node, job, digest(1)).await.unwrap();
    }
    settle_twice_unchanged(&mut env, job).await; // Revealing
    for node in &seats {
        env.reveal(*node, job, digest(1)).await.unwrap();
    }
    settle_twice_unchanged(&mut env, job).await; // Settled
}
