//! Node lifecycle: stake, collateral per seat (scaled by the reward), the pool (availability,
//! unbonding), asks and prices, reputation requirements, withdrawals, spec updates.

use crate::harness::*;
use anchor_lang::prelude::Pubkey;
use concord::draw::Skip;
use concord::errors::ConcordError as E;
use concord::state::{JobState, NodeStatus, NO_INDEX};
use solana_sdk::signature::Signer;

const REWARD: u64 = 10 * UNIT;

fn collateral(reward: u64) -> u64 {
    default_params().collateral_for(reward).unwrap()
}

/// Creates a job and returns the draw's preview one slot later.
async fn job_and_preview(
    env: &mut Env,
    buyer: &User,
    args: concord::CreateJobArgs,
) -> (Pubkey, concord_client::draw::DrawPreview) {
    let job = env.create_job(buyer, args).await;
    env.warp(1).await;
    let p = env.preview(job).await;
    (job, p)
}

/// Commits and reveals `digest(1)` for every seat.
async fn serve(env: &mut Env, job: Pubkey) {
    let seats: Vec<Pubkey> = env.job(job).await.seats.iter().map(|s| s.node).collect();
    for n in &seats {
        env.commit(*n, job, digest(1)).await.unwrap();
    }
    for n in &seats {
        env.reveal(*n, job, digest(1)).await.unwrap();
    }
}

#[tokio::test]
async fn collateral_is_locked_per_seat_scaled_by_the_reward_and_released() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operators(1, 200 * UNIT).await.remove(0);
    let a = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    let b = env.create_job(&buyer, job_args(1, 1, 50 * UNIT)).await;
    env.draw(a).await;
    env.draw(b).await;
    assert_eq!(
        env.job(b).await.collateral_per_seat,
        50 * UNIT,
        "100 % of the reward"
    );
    assert_eq!(env.job(a).await.collateral_per_seat, 20 * UNIT, "the floor");
    let n = env.node(op.node).await;
    assert_eq!(
        (n.locked_collateral, n.active_seats, n.assigned),
        (collateral(REWARD) + collateral(50 * UNIT), 2, 2)
    );
    assert_eq!(
        env.pool_state().await.entries[n.pool_index as usize].locked,
        n.locked_collateral
    );
    serve(&mut env, a).await;
    let n = env.node(op.node).await;
    assert_eq!((n.locked_collateral, n.active_seats), (50 * UNIT, 1));
    serve(&mut env, b).await;
    let n = env.node(op.node).await;
    assert_eq!(
        (n.locked_collateral, n.active_seats, n.stake),
        (0, 0, 200 * UNIT)
    );
}

#[tokio::test]
async fn a_draw_skips_nodes_without_free_stake_or_minimum_stake() {
    let mut env = Env::new().await;
    let buyer = env.user(10_000 * UNIT).await;
    // Stake 100 = min_stake with collateral 20: room for exactly five seats.
    let op = env.operator(100 * UNIT, 50 * UNIT).await;
    let small = env.operator(50 * UNIT, 100 * UNIT).await;
    env.next_epoch().await;
    for _ in 0..5 {
        let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
        assert_eq!(env.draw(job).await, vec![op.node]);
    }
    let (job, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert!(p.seats.is_empty());
    assert!(
        p.skipped.contains(&(op.node, Skip::FreeStake)),
        "{:?}",
        p.skipped
    );
    assert!(
        p.skipped.contains(&(small.node, Skip::Stake)),
        "{:?}",
        p.skipped
    );
    let ix = env.draw_ix(job).await;
    env.send(&[ix], &[]).await.unwrap();
    assert_eq!(
        env.job(job).await.state,
        JobState::Expired,
        "unstaffed: refunded"
    );

    // More stake frees room; topping up reaches the minimum.
    let dep = env.deposit_ix(&op, 20 * UNIT);
    env.send(&[dep], &[&op.user.kp]).await.unwrap();
    let dep = env.deposit_ix(&small, 50 * UNIT);
    env.send(&[dep], &[&small.user.kp]).await.unwrap();
    env.warp(1).await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(2, 2, REWARD)).await;
    assert_eq!(p.seats.len(), 2, "{:?}", p.skipped);
}

#[tokio::test]
async fn unbonding_leaves_the_pool_keeps_seats_and_gates_withdrawal() {
    // An unbonding period shorter than the execution window: the seat is still held after it.
    let params = concord::MarketParams {
        unbonding_period: 60,
        ..default_params()
    };
    let mut env = Env::with(anchor_spl::token::spl_token::ID, params).await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operators(1, 200 * UNIT).await.remove(0);
    let held = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.draw(held).await;

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
    let n = env.node(op.node).await;
    assert_eq!(
        n.status,
        NodeStatus::Unbonding {
            since,
            withdrawable_at: since + 60
        }
    );
    assert_eq!(n.pool_index, NO_INDEX, "out of the draw");
    assert_eq!(env.pool_state().await.count, 0);
    env.send_expect(&[ub], &[&op.user.kp], anchor_code(E::NodeUnbonding))
        .await;
    // Nor can it become available again.
    env.set_available(op.node, true).await;
    assert_eq!(env.node(op.node).await.pool_index, NO_INDEX);

    env.send_expect(
        &[w.clone()],
        &[&op.user.kp],
        anchor_code(E::UnbondingNotElapsed),
    )
    .await;
    env.advance(60).await;
    // Still holding a seat: refused. The seat is served while unbonding.
    env.send_expect(
        &[w.clone()],
        &[&op.user.kp],
        anchor_code(E::NodeHasActiveSeats),
    )
    .await;
    serve(&mut env, held).await;
    assert_eq!(env.job(held).await.state, JobState::Settled);

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
async fn the_availability_switch_takes_a_node_out_of_the_draw_and_back() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let ops = env.operators(2, 200 * UNIT).await;
    env.set_available(ops[0].node, false).await;
    let n = env.node(ops[0].node).await;
    assert!(
        !n.available && n.stake == 200 * UNIT,
        "stake stays where it is"
    );
    env.warp(1).await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(2, 2, REWARD)).await;
    assert_eq!(p.seats, vec![ops[1].node]);
    assert!(p.skipped.contains(&(ops[0].node, Skip::Left)));
    // Back in: drawable from the next pool epoch.
    env.set_available(ops[0].node, true).await;
    env.next_epoch().await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(2, 2, REWARD)).await;
    assert_eq!(p.seats.len(), 2);
}

#[tokio::test]
async fn a_node_is_drawn_only_at_or_above_its_ask() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operators(1, 200 * UNIT).await.remove(0);
    let work = 2 * 64 * 64 * 64;
    let ask = concord::pricing::price(REWARD, work) + 1;
    let ix = env.set_ask_ix(&op.key(), ask);
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.node(op.node).await.ask, ask);
    env.warp(1).await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert_eq!(p.skipped, vec![(op.node, Skip::Ask)]);
    // The reward the client computes for that ask is enough.
    let reward = concord::pricing::reward_for_ask(ask, work).unwrap();
    let (job, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, reward)).await;
    assert_eq!(p.seats, vec![op.node]);
    assert!(env.job(job).await.price >= ask);
}

#[tokio::test]
async fn reputation_requirements_filter_the_draw() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operators(1, 200 * UNIT).await.remove(0);
    let mut picky = job_args(1, 1, REWARD);
    picky.requirements.min_agreed = 1;
    let (_, p) = job_and_preview(&mut env, &buyer, picky.clone()).await;
    assert_eq!(p.skipped, vec![(op.node, Skip::Reputation)]);
    // One agreed job later the node qualifies.
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.draw(job).await;
    serve(&mut env, job).await;
    assert_eq!(env.node(op.node).await.agreed, 1);
    let (_, p) = job_and_preview(&mut env, &buyer, picky).await;
    assert_eq!(p.seats, vec![op.node]);
    // Out-of-range requirements are refused.
    let mut bad = job_args(1, 1, REWARD);
    bad.requirements.max_fault_bps = 10_001;
    let err = env.try_create_job(&buyer, bad).await.unwrap_err();
    assert_eq!(custom_code(&err), Some(anchor_code(E::InvalidRequirements)));
}

#[tokio::test]
async fn earnings_withdrawal() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operators(1, 200 * UNIT).await.remove(0);
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.draw(job).await;
    serve(&mut env, job).await;

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
async fn spec_updates_and_hardware_requirements() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let mut spec = gpu_spec();
    spec.vram_mib = 4_096;
    let op = env.operator_with(spec, 200 * UNIT, 0).await;
    env.next_epoch().await;
    // The job needs 8 GiB and cc ≥ 8.0.
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert_eq!(p.skipped, vec![(op.node, Skip::Hardware)]);

    // CPU-only with enough memory is still skipped by a CUDA-only job.
    let mut cpu_only = gpu_spec();
    cpu_only.backends = concord::constants::BACKEND_CPU;
    let ix = env.update_node_ix(&op, cpu_only);
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    env.warp(1).await;
    let mut args = job_args(1, 1, REWARD);
    args.requirements.backends = concord::constants::BACKEND_CUDA;
    let (_, p) = job_and_preview(&mut env, &buyer, args).await;
    assert_eq!(p.skipped, vec![(op.node, Skip::Hardware)]);

    // A spec that meets the requirements is drawn.
    let ix = env.update_node_ix(&op, gpu_spec());
    env.send(&[ix], &[&op.user.kp]).await.unwrap();
    assert_eq!(env.node(op.node).await.spec, gpu_spec());
    env.warp(1).await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert_eq!(p.seats, vec![op.node]);

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
async fn slashed_below_min_stake_is_not_drawn_until_topped_up() {
    let mut env = Env::new().await;
    let buyer = env.user(1_000 * UNIT).await;
    let op = env.operator(100 * UNIT, 100 * UNIT).await;
    env.next_epoch().await;
    let job = env.create_job(&buyer, job_args(1, 1, REWARD)).await;
    env.draw(job).await;
    env.advance(default_params().execution_window).await; // never commits
    env.settle(job).await.unwrap();
    let n = env.node(op.node).await;
    assert_eq!((n.stake, n.missed), (100 * UNIT - collateral(REWARD), 1));
    assert_eq!(
        env.pool_state().await.entries[n.pool_index as usize].weight,
        n.stake,
        "the slash lowered its weight"
    );
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert_eq!(p.skipped, vec![(op.node, Skip::Stake)]);
    let dep = env.deposit_ix(&op, collateral(REWARD));
    env.send(&[dep], &[&op.user.kp]).await.unwrap();
    env.warp(1).await;
    let (_, p) = job_and_preview(&mut env, &buyer, job_args(1, 1, REWARD)).await;
    assert_eq!(p.seats, vec![op.node]);
    let _ = op.user.kp.pubkey();
}
