//! Happy paths: whole job lifecycles with N = 1, 3 (with and without a dissenter), 5 and 7.

use crate::harness::*;
use concord::state::{JobState, SlotStatus};

const REWARD: u64 = 10 * UNIT;

/// reward × N fee at 250 bps, rounded up.
fn fee(n: u64) -> u64 {
    (REWARD * n * 250).div_ceil(10_000)
}

/// Runs a job of replication `n` and quorum `q` where `dissenters` nodes reveal a wrong digest;
/// returns the env, operators, buyer and job.
async fn run_job(
    env: &mut Env,
    n: u8,
    q: u8,
    dissenters: usize,
) -> (Vec<Operator>, User, anchor_lang::prelude::Pubkey) {
    let buyer = env.user(1_000 * UNIT).await;
    let mut ops = vec![];
    for _ in 0..n {
        ops.push(env.operator(200 * UNIT, 0).await);
    }
    let job = env.create_job(&buyer, job_args(n, q, REWARD)).await;
    for op in &ops {
        env.claim(op, job).await.unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        let d = if i < dissenters {
            digest(0xee)
        } else {
            digest(1)
        };
        env.commit(op, job, d).await.unwrap();
    }
    assert_eq!(env.job(job).await.state, JobState::Revealing);
    for (i, op) in ops.iter().enumerate() {
        let d = if i < dissenters {
            digest(0xee)
        } else {
            digest(1)
        };
        env.reveal(op, job, d).await.unwrap();
    }
    env.settle(job).await.unwrap();
    (ops, buyer, job)
}

#[tokio::test]
async fn single_worker_lifecycle() {
    let mut env = Env::new().await;
    let (ops, buyer, job) = run_job(&mut env, 1, 1, 0).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.accepted_digest, Some(digest(1)));
    assert_eq!(j.slots[0].status, SlotStatus::Paid);
    let node = env.node(ops[0].node).await;
    assert_eq!(node.earnings, REWARD);
    assert_eq!(node.stake, 200 * UNIT);
    assert_eq!(
        (node.locked_collateral, node.active_slots, node.agreed),
        (0, 0, 1)
    );
    assert_eq!(env.market_state().await.treasury, fee(1));
    // Buyer paid exactly reward + fee.
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - REWARD - fee(1)
    );

    // The operator withdraws the earnings; the buyer closes the job and gets the rent back.
    let ix = env.withdraw_earnings_ix(&ops[0], ops[0].user.token, REWARD);
    env.send(&[ix], &[&ops[0].user.kp]).await.unwrap();
    assert_eq!(env.balance(ops[0].user.token).await, REWARD);
    let rent = env.account(job).await.unwrap().lamports;
    let lamports_before = env.account(buyer.key()).await.unwrap().lamports;
    let ix = env.close_ix(&buyer, job);
    env.send(&[ix], &[&buyer.kp]).await.unwrap();
    assert!(env.account(job).await.is_none());
    assert_eq!(
        env.account(buyer.key()).await.unwrap().lamports,
        lamports_before + rent
    );
}

#[tokio::test]
async fn three_workers_all_agree() {
    let mut env = Env::new().await;
    let (ops, buyer, job) = run_job(&mut env, 3, 2, 0).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    for op in &ops {
        assert_eq!(env.node(op.node).await.earnings, REWARD);
    }
    assert_eq!(env.market_state().await.treasury, fee(3));
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 3 * REWARD - fee(3)
    );
}

#[tokio::test]
async fn three_workers_one_dissenter_is_slashed() {
    let mut env = Env::new().await;
    let collateral = default_params().collateral_per_slot;
    let (ops, buyer, job) = run_job(&mut env, 3, 2, 1).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.accepted_digest, Some(digest(1)));
    assert_eq!(j.slots[0].status, SlotStatus::Slashed);
    let dissenter = env.node(ops[0].node).await;
    assert_eq!(dissenter.earnings, 0);
    assert_eq!(dissenter.stake, 200 * UNIT - collateral);
    assert_eq!(dissenter.dissented, 1);
    for op in &ops[1..] {
        let n = env.node(op.node).await;
        assert_eq!((n.earnings, n.stake, n.agreed), (REWARD, 200 * UNIT, 1));
    }
    // Fee and slashed collateral to the treasury; the dissenter's reward back to the buyer.
    assert_eq!(env.market_state().await.treasury, fee(3) + collateral);
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 2 * REWARD - fee(3)
    );
}

#[tokio::test]
async fn five_workers_quorum_three() {
    let mut env = Env::new().await;
    let collateral = default_params().collateral_per_slot;
    let (ops, buyer, job) = run_job(&mut env, 5, 3, 2).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    let statuses: Vec<_> = j.slots.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            SlotStatus::Slashed,
            SlotStatus::Slashed,
            SlotStatus::Paid,
            SlotStatus::Paid,
            SlotStatus::Paid
        ]
    );
    assert_eq!(env.node(ops[4].node).await.earnings, REWARD);
    assert_eq!(env.market_state().await.treasury, fee(5) + 2 * collateral);
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 3 * REWARD - fee(5)
    );
}

#[tokio::test]
async fn seven_workers_token_2022_mint() {
    let mut env = Env::with(anchor_spl::token_2022::ID, default_params()).await;
    let (_ops, buyer, job) = run_job(&mut env, 7, 4, 3).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 4 * REWARD - fee(7)
    );
}
