//! Happy paths: whole job lifecycles with N = 1, 3 (with and without a dissenter), 5 and 7,
//! each in the protocol's 2N + 1 transactions: create, N commits (the first draws), N reveals
//! (the last settles).

use crate::harness::*;
use anchor_lang::prelude::Pubkey;
use concord::state::{JobState, SeatStatus};
use solana_sdk::signature::Signer;

const REWARD: u64 = 10 * UNIT;

/// reward × N fee at 250 bps, rounded up.
fn fee(n: u64) -> u64 {
    (REWARD * n * 250).div_ceil(10_000)
}

/// Collateral per seat at REWARD (100 % of the reward, floor 20).
fn collateral() -> u64 {
    default_params().collateral_for(REWARD).unwrap()
}

/// A market with `pool` staked nodes; a job of N = `n`, Q = `q` in which the first
/// `dissenters` seats reveal a wrong digest. Returns the env, buyer, job and seat holders.
async fn run(
    token_program: Pubkey,
    pool: usize,
    n: u8,
    q: u8,
    dissenters: usize,
) -> (Env, User, Pubkey, Vec<Pubkey>) {
    let mut env = Env::with(token_program, default_params()).await;
    let buyer = env.user(1_000 * UNIT).await;
    env.operators(pool, 200 * UNIT).await;
    let digests: Vec<[u8; 32]> = (0..usize::from(n))
        .map(|i| {
            if i < dissenters {
                digest(0xee)
            } else {
                digest(1)
            }
        })
        .collect();
    let txs = env.tx_count;
    let (job, seats) = env.run_job(&buyer, job_args(n, q, REWARD), &digests).await;
    assert_eq!(
        env.tx_count - txs,
        2 * u64::from(n) + 1,
        "2N + 1 transactions per honest job"
    );
    (env, buyer, job, seats)
}

#[tokio::test]
async fn single_worker_lifecycle() {
    let (mut env, buyer, job, seats) = run(spl_token(), 3, 1, 1, 0).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled, "the only reveal settles");
    assert_eq!(j.accepted_digest, Some(digest(1)));
    assert_eq!(j.seats[0].status, SeatStatus::Paid);
    let node = env.node(seats[0]).await;
    assert_eq!(node.earnings, REWARD);
    assert_eq!(node.stake, 200 * UNIT);
    assert_eq!(
        (
            node.locked_collateral,
            node.active_seats,
            node.agreed,
            node.assigned
        ),
        (0, 0, 1, 1)
    );
    assert_eq!(env.market_state().await.treasury, fee(1));
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - REWARD - fee(1)
    );

    // The operator withdraws the earnings; the buyer closes the job and gets the rent back.
    let kp = env.signer_of(&seats[0]);
    let dest = env.token_account(env.mint, &kp.pubkey(), 0).await;
    let ix = concord_client::ix::withdraw_earnings(env.info(), &kp.pubkey(), &dest, REWARD);
    env.send(&[ix], &[&kp]).await.unwrap();
    assert_eq!(env.balance(dest).await, REWARD);
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
    let (mut env, buyer, job, seats) = run(spl_token(), 6, 3, 2, 0).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(
        j.backups.len(),
        3,
        "three backups were drawn and stay unused"
    );
    for node in &seats {
        assert_eq!(env.node(*node).await.earnings, REWARD);
    }
    assert_eq!(env.market_state().await.treasury, fee(3));
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 3 * REWARD - fee(3)
    );
}

#[tokio::test]
async fn three_workers_one_dissenter_is_slashed() {
    let (mut env, buyer, job, seats) = run(spl_token(), 5, 3, 2, 1).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert_eq!(j.accepted_digest, Some(digest(1)));
    assert_eq!(j.seats[0].status, SeatStatus::Slashed);
    let dissenter = env.node(seats[0]).await;
    assert_eq!(dissenter.earnings, 0);
    assert_eq!(dissenter.stake, 200 * UNIT - collateral());
    assert_eq!(dissenter.dissented, 1);
    for node in &seats[1..] {
        let n = env.node(*node).await;
        assert_eq!((n.earnings, n.stake, n.agreed), (REWARD, 200 * UNIT, 1));
    }
    // Fee and slashed collateral to the treasury; the dissenter's reward back to the buyer.
    assert_eq!(env.market_state().await.treasury, fee(3) + collateral());
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 2 * REWARD - fee(3)
    );
}

#[tokio::test]
async fn five_workers_quorum_three() {
    let (mut env, buyer, job, seats) = run(spl_token(), 8, 5, 3, 2).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    let statuses: Vec<_> = j.seats.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            SeatStatus::Slashed,
            SeatStatus::Slashed,
            SeatStatus::Paid,
            SeatStatus::Paid,
            SeatStatus::Paid
        ]
    );
    assert_eq!(env.node(seats[4]).await.earnings, REWARD);
    assert_eq!(env.market_state().await.treasury, fee(5) + 2 * collateral());
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 3 * REWARD - fee(5)
    );
}

#[tokio::test]
async fn seven_workers_token_2022_mint() {
    let (mut env, buyer, job, _) = run(anchor_spl::token_2022::ID, 7, 7, 4, 3).await;
    let j = env.job(job).await;
    assert_eq!(j.state, JobState::Settled);
    assert!(j.backups.is_empty(), "every node of the pool holds a seat");
    assert_eq!(
        env.balance(buyer.token).await,
        1_000 * UNIT - 4 * REWARD - fee(7)
    );
}

fn spl_token() -> Pubkey {
    anchor_spl::token::spl_token::ID
}
