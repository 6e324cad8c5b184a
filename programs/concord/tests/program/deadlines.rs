//! Every deadline path, and settle_job's idempotence at every state.

use crate::harness::*;
use concord::state::{JobState, SlotStatus};

const REWARD: u64 = 10 * UNIT;
const BUYER_FUNDS: u64 = 1_000 * UNIT;
const STAKE: u64 = 200 * UNIT;

async fn setup(n: usize) -> (Env, User, Vec<Operator>) {
    let mut env = Env::new().await;
    let buyer = env.user(BUYER_FUNDS).await;
    let mut ops = vec![];
    for _ in 0..n {
        ops.push(env.operator(STAKE, 0).await);
    }
    (env, buyer, ops)
}

fn collateral() -> u64 {
    default_params().collateral_per_slot
}

#[tokio::test]
async fn claim_window_expiry_refunds_and_releases_claimers() {
    let (mut env, buyer, ops) = setup(2).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    env.claim(&ops[0], job).await.unwrap();
    env.claim(&ops[1], job).await.unwrap();
    env.commit(&ops[0], job, digest(1)).await.unwrap();
    assert_eq!(env.node(ops[0].node).await.locked_collateral, collateral());

    // Before the deadline nothing happens.
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Open);

    env.advance(default_params().claim_window).await;
    // A late claim is refused with a named error.
    let late = env.operator(STAKE, 0).await;
    let ix = env.claim_ix(&late.key(), late.node, job);
    env.send_expect(
        &[ix],
        &[&late.user.kp],
        anchor_code(concord::errors::ConcordError::ClaimWindowClosed),
    )
    .await;

    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Expired);
    assert!(j.slots.iter().all(|s| s.status == SlotStatus::Released));
    assert_eq!(
        env.balance(buyer.token).await,
        BUYER_FUNDS,
        "full refund, fee included"
    );
    for op in &ops {
        let n = env.node(op.node).await;
        assert_eq!(
            (n.stake, n.locked_collateral, n.active_slots, n.missed),
            (STAKE, 0, 0, 0)
        );
    }
    assert_eq!(env.market_state().await.treasury, 0);
}

#[tokio::test]
async fn commit_deadline_with_quorum_of_commits_opens_reveals() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
    }
    env.commit(&ops[0], job, digest(1)).await.unwrap();
    env.commit(&ops[1], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;

    // The late committer is refused; settle opens the reveal phase without node accounts.
    let c = concord::state::commitment(&job, &ops[2].node, &digest(1), &salt_of(&ops[2]));
    let ix = env.commit_ix(&ops[2].key(), ops[2].node, job, c);
    env.send_expect(
        &[ix],
        &[&ops[2].user.kp],
        anchor_code(concord::errors::ConcordError::CommitWindowClosed),
    )
    .await;
    let ix = env.settle_ix_with(job, buyer.token, &[]);
    env.send(&[ix], &[]).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);

    env.reveal(&ops[0], job, digest(1)).await.unwrap();
    env.reveal(&ops[1], job, digest(1)).await.unwrap();
    // All committed slots revealed: settles before the reveal deadline.
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.slots[2].status, SlotStatus::Slashed);
    let missed = env.node(ops[2].node).await;
    assert_eq!((missed.stake, missed.missed), (STAKE - collateral(), 1));
    let fee = (3 * REWARD * 250).div_ceil(10_000);
    assert_eq!(
        env.balance(buyer.token).await,
        BUYER_FUNDS - 2 * REWARD - fee
    );
    assert_eq!(env.market_state().await.treasury, fee + collateral());
}

#[tokio::test]
async fn reveal_after_commit_deadline_opens_phase_without_crank() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
    }
    env.commit(&ops[0], job, digest(1)).await.unwrap();
    env.commit(&ops[1], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;
    env.reveal(&ops[0], job, digest(1)).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);
}

#[tokio::test]
async fn commit_deadline_without_quorum_fails_job() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
    }
    env.commit(&ops[0], job, digest(1)).await.unwrap();
    env.advance(default_params().execution_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    let statuses: Vec<_> = j.slots.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            SlotStatus::Released,
            SlotStatus::Slashed,
            SlotStatus::Slashed
        ]
    );
    assert_eq!(
        env.balance(buyer.token).await,
        BUYER_FUNDS,
        "full refund, no fee"
    );
    assert_eq!(env.market_state().await.treasury, 2 * collateral());
    assert_eq!(env.node(ops[0].node).await.stake, STAKE);
}

#[tokio::test]
async fn reveal_deadline_slashes_non_revealers() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
        env.commit(op, job, digest(1)).await.unwrap();
    }
    env.reveal(&ops[0], job, digest(1)).await.unwrap();
    env.reveal(&ops[1], job, digest(1)).await.unwrap();
    // Not everyone revealed and the deadline has not passed: nothing to do.
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Revealing);

    env.advance(default_params().reveal_window).await;
    let ix = env.reveal_ix(&ops[2].key(), ops[2].node, job, digest(1), salt_of(&ops[2]));
    env.send_expect(
        &[ix],
        &[&ops[2].user.kp],
        anchor_code(concord::errors::ConcordError::RevealWindowClosed),
    )
    .await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.slots[2].status, SlotStatus::Slashed);
    assert_eq!(env.node(ops[2].node).await.missed, 1);
    assert_eq!(env.node(ops[0].node).await.earnings, REWARD);
}

#[tokio::test]
async fn no_quorum_refunds_everything_and_slashes_only_no_shows() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
        env.commit(
            op,
            job,
            digest(ops.iter().position(|o| o.node == op.node).unwrap() as u8),
        )
        .await
        .unwrap();
    }
    env.reveal(&ops[0], job, digest(0)).await.unwrap();
    env.reveal(&ops[1], job, digest(1)).await.unwrap();
    env.advance(default_params().reveal_window).await;
    env.settle(job).await.unwrap();
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Failed);
    assert_eq!(j.accepted_digest, None);
    let statuses: Vec<_> = j.slots.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            SlotStatus::Released,
            SlotStatus::Released,
            SlotStatus::Slashed
        ]
    );
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
    assert_eq!(
        env.market_state().await.treasury,
        collateral(),
        "no fee, one slash"
    );
    for op in &ops[..2] {
        let n = env.node(op.node).await;
        assert_eq!((n.stake, n.earnings, n.dissented), (STAKE, 0, 0));
    }
}

#[tokio::test]
async fn all_revealed_without_quorum_fails_immediately() {
    let (mut env, buyer, ops) = setup(3).await;
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    for (i, op) in ops.iter().enumerate() {
        env.claim(op, job).await.unwrap();
        env.commit(op, job, digest(i as u8)).await.unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        env.reveal(op, job, digest(i as u8)).await.unwrap();
    }
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Failed);
    assert_eq!(env.balance(buyer.token).await, BUYER_FUNDS);
    assert_eq!(env.market_state().await.treasury, 0);
}

/// settle_job at every state of a job's life, twice: it only ever applies what is due.
#[tokio::test]
async fn settle_is_idempotent_at_every_state() {
    let (mut env, buyer, ops) = setup(3).await;
    async fn settle_twice_unchanged(env: &mut Env, job: anchor_lang::prelude::Pubkey) {
        for _ in 0..2 {
            let before = env.snapshot().await;
            env.settle(job).await.unwrap();
            assert_eq!(
                before,
                env.snapshot().await,
                "settle changed a job with nothing due"
            );
        }
    }
    let job = env.create_job(&buyer, job_args(3, 2, REWARD)).await;
    settle_twice_unchanged(&mut env, job).await; // Open, no claims
    env.claim(&ops[0], job).await.unwrap();
    settle_twice_unchanged(&mut env, job).await; // Open, one claim
    env.claim(&ops[1], job).await.unwrap();
    env.claim(&ops[2], job).await.unwrap();
    settle_twice_unchanged(&mut env, job).await; // Running
    for op in &ops {
        env.commit(op, job, digest(1)).await.unwrap();
    }
    settle_twice_unchanged(&mut env, job).await; // Revealing
    env.reveal(&ops[0], job, digest(1)).await.unwrap();
    settle_twice_unchanged(&mut env, job).await; // Revealing, partly revealed
    env.reveal(&ops[1], job, digest(1)).await.unwrap();
    env.reveal(&ops[2], job, digest(1)).await.unwrap();
    env.settle(job).await.unwrap();
    assert_eq!(env.job(job).await.state, JobState::Settled);
    settle_twice_unchanged(&mut env, job).await; // Settled
    env.advance(10 * 86_400).await;
    settle_twice_unchanged(&mut env, job).await; // Settled, long after every deadline

    // Cancelled and Expired jobs too.
    let cancelled = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let ix = env.cancel_ix(&buyer, cancelled);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    settle_twice_unchanged(&mut env, cancelled).await;
    let expired = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.advance(default_params().claim_window).await;
    env.settle(expired).await.unwrap();
    assert_eq!(env.job(expired).await.state, JobState::Expired);
    settle_twice_unchanged(&mut env, expired).await;
}
