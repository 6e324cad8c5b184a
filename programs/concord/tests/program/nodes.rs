//! Node lifecycle: stake, collateral per slot, unbonding, withdrawals, spec and requirements.

use crate::harness::*;
use concord::errors::ConcordError as E;
use concord::state::{JobState, NodeStatus};

const REWARD: u64 = 10 * UNIT;

fn collateral() -> u64 {
    default_params().collateral_per_slot
}

#[tokio::test]
async fn collateral_is_locked_per_slot_and_released() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let a = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let b = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    env.claim(&op, a).await.unwrap();
    env.claim(&op, b).await.unwrap();
    let n = env.node(op.node).await;
    assert_eq!(
        (n.locked_collateral, n.active_slots, n.claimed),
        (2 * collateral(), 2, 2)
    );
    assert_eq!(n.free_stake(), 200 * UNIT - 2 * collateral());

    env.commit(&op, a, digest(1)).await.unwrap();
    env.reveal(&op, a, digest(1)).await.unwrap();
    env.settle(a).await.unwrap();
    let n = env.node(op.node).await;
    assert_eq!((n.locked_collateral, n.active_slots), (collateral(), 1));

    env.advance(default_params().claim_window).await;
    env.settle(b).await.unwrap();
    assert_eq!(env.job(b).await.state, JobState::Expired);
    let n = env.node(op.node).await;
    assert_eq!(
        (n.locked_collateral, n.active_slots, n.stake),
        (0, 0, 200 * UNIT)
    );
}

#[tokio::test]
async fn claims_need_free_stake_and_min_stake() {
    let mut env = Env::new().await;
    let buyer = env.user(10_000 * UNIT).await;
    // Stake 100 = min_stake with collateral 20: room for exactly five slots.
    let op = env.operator(100 * UNIT, 50 * UNIT).await;
    for _ in 0..5 {
        let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
        env.claim(&op, job).await.unwrap();
    }
    let job = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    let ix = env.claim_ix(&op.key(), op.node, job);
    env.send_expect(
        &[ix.clone()],
        &[&op.user.kp],
        anchor_code(E::InsufficientFreeStake),
    )
    .await;
    // More stake frees room.
    let dep = env.deposit_ix(&op, 20 * UNIT);
    env.send(&[dep], &[&op.user.kp]).await.unwrap();
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.node(op.node).await.stake, 120 * UNIT);

    // Below min_stake: no claims at all, even with free stake for a slot.
    let small = env.operator(50 * UNIT, 100 * UNIT).await;
    let ix = env.claim_ix(&small.key(), small.node, job);
    env.send_expect(
        &[ix.clone()],
        &[&small.user.kp],
        anchor_code(E::InsufficientStake),
    )
    .await;
    let dep = env.deposit_ix(&small, 50 * UNIT);
    env.send(&[dep], &[&small.user.kp]).await.unwrap();
    env.send(&[ix], &[&small.user.kp]).await.unwrap();
}

#[tokio::test]
async fn unbonding_blocks_claims_and_gates_withdrawal() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let held = env.create_job(&buyer, job_args(2, 2, REWARD)).await;
    env.claim(&op, held).await.unwrap();

    // Withdrawing while active is refused.
    let w = env.withdraw_stake_ix(&op, op.user.token, 10 * UNIT);
    env.send_expect(
        &[w.clone()],
        &[&op.user.kp],
        anchor_code(E::NodeNotUnbonding),
    )
    .await;

    let ub = env.unbond_ix(&op);
    env.send(&[ub.clone()], &[&op.user.kp]).await.unwrap();
    let since = env.now().await;
    assert_eq!(
        env.node(op.node).await.status,
        NodeStatus::Unbonding {
            since,
            withdrawable_at: since + default_params().unbonding_period
        }
    );
    // Unbonding twice is refused, and so are new claims.
    env.send_expect(&[ub], &[&op.user.kp], anchor_code(E::NodeUnbonding))
        .await;
    let other = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let c = env.claim_ix(&op.key(), op.node, other);
    env.send_expect(&[c], &[&op.user.kp], anchor_code(E::NodeUnbonding))
        .await;

    // Before the window ends: refused.
    env.send_expect(
        &[w.clone()],
        &[&op.user.kp],
        anchor_code(E::UnbondingNotElapsed),
    )
    .await;
    env.advance(default_params().unbonding_period).await;
    // Still holding a slot: refused.
    env.send_expect(
        &[w.clone()],
        &[&op.user.kp],
        anchor_code(E::NodeHasActiveSlots),
    )
    .await;
    env.settle(held).await.unwrap(); // expires, releasing the slot
    assert_eq!(env.node(op.node).await.active_slots, 0);

    let too_much = env.withdraw_stake_ix(&op, op.user.token, 201 * UNIT);
    env.send_expect(
        &[too_much],
        &[&op.user.kp],
        anchor_code(E::InsufficientStake),
    )
    .await;
    env.send(&[w], &[&op.user.kp]).await.unwrap();
    let rest = env.withdraw_stake_ix(&op, op.user.token, 190 * UNIT);
    env.send(&[rest], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.balance(op.user.token).await, 200 * UNIT);
    assert_eq!(env.node(op.node).await.stake, 0);
}

#[tokio::test]
async fn earnings_withdrawal() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&op, job).await.unwrap();
    env.commit(&op, job, digest(3)).await.unwrap();
    env.reveal(&op, job, digest(3)).await.unwrap();
    env.settle(job).await.unwrap();

    let zero = env.withdraw_earnings_ix(&op, op.user.token, 0);
    env.send_expect(&[zero], &[&op.user.kp], anchor_code(E::ZeroAmount))
        .await;
    let over = env.withdraw_earnings_ix(&op, op.user.token, REWARD + 1);
    env.send_expect(
        &[over],
        &[&op.user.kp],
        anchor_code(E::InsufficientEarnings),
    )
    .await;
    // To any token account of the mint, e.g. a cold wallet's.
    let cold = env.user(0).await;
    let part = env.withdraw_earnings_ix(&op, cold.token, 4 * UNIT);
    env.send(&[part], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.balance(cold.token).await, 4 * UNIT);
    assert_eq!(env.node(op.node).await.earnings, REWARD - 4 * UNIT);
    // Unbonding does not block earnings.
    let ub = env.unbond_ix(&op);
    env.send(&[ub], &[&op.user.kp]).await.unwrap();
    let rest = env.withdraw_earnings_ix(&op, op.user.token, REWARD - 4 * UNIT);
    env.send(&[rest], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.node(op.node).await.earnings, 0);
}

#[tokio::test]
async fn spec_updates_and_requirements() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let mut spec = gpu_spec();
    spec.vram_mib = 4_096;
    let op = env.operator_with(spec.clone(), 200 * UNIT, 0).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await; // needs 8 GiB, cc ≥ 8.0
    let claim = env.claim_ix(&op.key(), op.node, job);
    env.send_expect(
        &[claim.clone()],
        &[&op.user.kp],
        anchor_code(E::RequirementsNotMet),
    )
    .await;

    // CPU-only with enough memory still fails a CUDA-only job.
    let mut cpu_only = gpu_spec();
    cpu_only.backends = concord::constants::BACKEND_CPU;
    let ix = env.update_node_ix(&op, cpu_only);
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    let mut args = job_args(1, 1, REWARD);
    args.requirements.backends = concord::constants::BACKEND_CUDA;
    let cuda_job = env.create_job(&buyer, args).await;
    let c2 = env.claim_ix(&op.key(), op.node, cuda_job);
    env.send_expect(&[c2], &[&op.user.kp], anchor_code(E::RequirementsNotMet))
        .await;

    // A spec that meets the requirements can claim.
    let ix = env.update_node_ix(&op, gpu_spec());
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.node(op.node).await.spec, gpu_spec());
    env.send(&[claim], &[&op.user.kp]).await.unwrap();

    // Invalid specs are refused with named errors.
    let mut long = gpu_spec();
    long.gpu_model = "X".repeat(33);
    let ix = env.update_node_ix(&op, long);
    env.send_expect(&[ix], &[&op.user.kp], anchor_code(E::GpuModelTooLong))
        .await;
    for backends in [0u8, 0b100] {
        let mut bad = gpu_spec();
        bad.backends = backends;
        let ix = env.update_node_ix(&op, bad);
        env.send_expect(&[ix], &[&op.user.kp], anchor_code(E::InvalidBackends))
            .await;
    }
}

#[tokio::test]
async fn slashed_below_min_stake_cannot_claim_until_topped_up() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(100 * UNIT, 100 * UNIT).await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.claim(&op, job).await.unwrap();
    env.advance(default_params().execution_window).await; // never commits
    env.settle(job).await.unwrap();
    let n = env.node(op.node).await;
    assert_eq!((n.stake, n.missed), (100 * UNIT - collateral(), 1));
    let next = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let c = env.claim_ix(&op.key(), op.node, next);
    env.send_expect(
        &[c.clone()],
        &[&op.user.kp],
        anchor_code(E::InsufficientStake),
    )
    .await;
    let dep = env.deposit_ix(&op, collateral());
    env.send(&[dep], &[&op.user.kp]).await.unwrap();
    env.send(&[c], &[&op.user.kp]).await.unwrap();
}
