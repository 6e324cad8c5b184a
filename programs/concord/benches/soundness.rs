//! Soundness of the committee draw, measured through the real program: 100 honest nodes of equal
//! stake and an adversary holding a fraction f of all stake, split over 1, 10 or 100 identities;
//! for N/Q in {3/2, 5/3, 7/4}, `--jobs` jobs each (default 2 000) are created and drawn by
//! `draw_job` in solana-program-test's bank, and the seats read back from the job accounts.
//!
//! Printed per cell: the measured rate at which the adversary holds ≥ Q seats (with its 95 %
//! Wilson interval), the binomial tail P[Bin(N, f) ≥ Q], the exact probability of the draw's own
//! scheme (stake-weighted picks without replacement, one seat per node, computed by dynamic
//! programming), and the adversary's mean seats against f·N.
//!
//! `cargo bench -p concord --bench soundness [-- --jobs 2000]`
#![allow(deprecated)] // solana-program-test 3.x flags its API "unstable" through deprecation

#[allow(dead_code)]
#[path = "../tests/program/harness.rs"]
mod harness;

use std::collections::BTreeSet;
use std::time::Instant;

use anchor_lang::prelude::Pubkey;
use harness::*;
use solana_sdk::signature::Signer;

const HONEST: usize = 100;
const HONEST_STAKE: u64 = 1_000_000 * UNIT;

/// P[Bin(n, f) ≥ q].
fn binomial_tail(n: u32, f: f64, q: u32) -> f64 {
    (q..=n)
        .map(|k| {
            let c = (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1));
            c * f.powi(k as i32) * (1.0 - f).powi((n - k) as i32)
        })
        .sum()
}

/// P[adversary holds ≥ q of n seats] when n nodes are picked one at a time, each with
/// probability proportional to stake among those not picked yet: `k` adversary identities of
/// stake `a`, `h` honest nodes of stake `b`.
fn without_replacement(n: usize, q: usize, k: usize, a: f64, h: usize, b: f64) -> f64 {
    // p[i][j]: probability of having picked i adversary and j honest nodes.
    let mut p = vec![vec![0.0f64; n + 1]; n + 1];
    p[0][0] = 1.0;
    for step in 0..n {
        for i in 0..=step {
            let j = step - i;
            let pr = p[i][j];
            if pr == 0.0 {
                continue;
            }
            let wa = (k.saturating_sub(i)) as f64 * a;
            let wb = (h.saturating_sub(j)) as f64 * b;
            if wa + wb == 0.0 {
                continue;
            }
            p[i + 1][j] += pr * wa / (wa + wb);
            p[i][j + 1] += pr * wb / (wa + wb);
        }
    }
    (q..=n).map(|i| p[i][n - i]).sum()
}

/// 95 % Wilson interval of `hits / n`.
fn wilson(hits: usize, n: usize) -> (f64, f64) {
    let (n, p, z) = (n as f64, hits as f64 / n as f64, 1.96f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Registers a node with `stake` without the per-transaction invariant check (bulk setup).
async fn node(env: &mut Env, stake: u64) -> Pubkey {
    let user = env.user(stake).await;
    let ix = env.register_ix(&user.key(), user.token, gpu_spec(), stake);
    env.send_unchecked(&[ix], &[&user.kp])
        .await
        .expect("register_node");
    node_pda(&env.market, &user.key())
}

struct Cell {
    f: f64,
    split: usize,
    n: u8,
    q: u8,
    jobs: usize,
    hits: usize,
    seats: usize,
    adversary_stake: u64,
}

async fn run_split(f: f64, split: usize, jobs: usize) -> Vec<Cell> {
    let params = concord::MarketParams {
        min_stake: 1,
        min_collateral: 1,
        collateral_bps: 0,
        draw_horizon_slots: 512,
        max_reassignments: 0,
        ..default_params()
    };
    let mut env = Env::with(anchor_spl::token::spl_token::ID, params).await;
    for _ in 0..HONEST {
        node(&mut env, HONEST_STAKE).await;
    }
    // f = split · s / (split · s + 100 · honest)
    let total_honest = (HONEST as f64) * HONEST_STAKE as f64;
    let per_identity = (f * total_honest / (1.0 - f) / split as f64).round() as u64;
    let mut adversary = BTreeSet::new();
    for _ in 0..split {
        adversary.insert(node(&mut env, per_identity).await);
    }
    env.next_epoch().await;
    let buyer = env.user(u64::MAX / 4).await;
    // Rent for every job account (about 0.02 SOL each).
    env.airdrop(&buyer.key(), 1_000_000_000_000).await;
    let mut cells = vec![];
    for (n, q) in [(3u8, 2u8), (5, 3), (7, 4)] {
        let mut cell = Cell {
            f,
            split,
            n,
            q,
            jobs: 0,
            hits: 0,
            seats: 0,
            adversary_stake: per_identity * split as u64,
        };
        let mut next_id = env.market_state().await.next_job_id;
        while cell.jobs < jobs {
            let batch = (jobs - cell.jobs).min(100);
            let mut created = vec![];
            for _ in 0..batch {
                let job = job_pda(&env.market, next_id);
                let ix = concord_client::ix::create_job(
                    env.info(),
                    next_id,
                    &buyer.key(),
                    &buyer.token,
                    job_args(n, q, 1),
                );
                env.send_unchecked(&[ix], &[&buyer.kp])
                    .await
                    .expect("create_job");
                next_id += 1;
                created.push(job);
            }
            // The draw needs the hash of the creation slot: one slot later.
            env.warp(1).await;
            for job in created {
                let ix = env.draw_ix(job).await;
                env.send_unchecked(&[ix], &[]).await.expect("draw_job");
                let j = env.job(job).await;
                assert_eq!(j.seats.len(), usize::from(n), "staffed");
                let held = j
                    .seats
                    .iter()
                    .filter(|s| adversary.contains(&s.node))
                    .count();
                cell.seats += held;
                cell.hits += usize::from(held >= usize::from(q));
                cell.jobs += 1;
            }
        }
        cells.push(cell);
    }
    let _ = buyer.kp.pubkey();
    cells
}

#[tokio::main]
async fn main() {
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "error");
    }
    let jobs: usize = std::env::args()
        .skip_while(|a| a != "--jobs")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let started = Instant::now();
    println!(
        "Concord draw soundness through the program: {HONEST} honest nodes of equal stake, an adversary with stake fraction f over 1, 10 or 100 identities, {jobs} drawn jobs per cell\n"
    );
    println!("| f | identities | N/Q | jobs | adversary ≥ Q (measured) | 95 % CI | binomial P[Bin(N,f) ≥ Q] | measured / binomial | draw scheme (exact) | adversary seats / job | f·N |");
    println!("|---:|---:|:---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for f in [0.1, 0.2, 0.33] {
        for split in [1usize, 10, 100] {
            for c in run_split(f, split, jobs).await {
                let rate = c.hits as f64 / c.jobs as f64;
                let (lo, hi) = wilson(c.hits, c.jobs);
                let binom = binomial_tail(u32::from(c.n), c.f, u32::from(c.q));
                let honest_total = HONEST as f64 * HONEST_STAKE as f64;
                let actual_f = c.adversary_stake as f64 / (c.adversary_stake as f64 + honest_total);
                let exact = without_replacement(
                    usize::from(c.n),
                    usize::from(c.q),
                    c.split,
                    c.adversary_stake as f64 / c.split as f64,
                    HONEST,
                    HONEST_STAKE as f64,
                );
                println!(
                    "| {:.2} | {} | {}/{} | {} | {:.2} % | {:.2}–{:.2} % | {:.2} % | {:.2} | {:.2} % | {:.3} | {:.3} |",
                    c.f,
                    c.split,
                    c.n,
                    c.q,
                    c.jobs,
                    rate * 100.0,
                    lo * 100.0,
                    hi * 100.0,
                    binom * 100.0,
                    rate / binom,
                    exact * 100.0,
                    c.seats as f64 / c.jobs as f64,
                    actual_f * f64::from(c.n),
                );
            }
        }
    }
    println!("\n({:.0} s)", started.elapsed().as_secs_f64());
}
