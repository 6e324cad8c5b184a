//! Invariant fuzzing: random sequences of every instruction from several buyers, operators and
//! an attacker (random signers, accounts, amounts, clock jumps and slot warps) against the
//! program in the real runtime: draws with honest and tampered accounts, pool churn (joins,
//! leaves, asks, stake, unbonding), reassignment at commit deadlines. After every step: the
//! conservation and pool invariants (the harness), no token account changed that the instruction
//! did not name, job and node states moved only along legal edges, a failed transaction changed
//! nothing, and a terminal job never changed again.
//!
//! CI runs `CONCORD_FUZZ_SEQUENCES` sequences (default 12) of 60 steps; set it to 10000 for a
//! long run (BENCHMARKS.md records the last one) and `CONCORD_FUZZ_SEED` to replay.

use std::collections::BTreeMap;

use anchor_lang::prelude::Pubkey;
use concord::state::{Job, JobState, NodeStatus};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use solana_sdk::instruction::Instruction;
use solana_sdk::signature::{Keypair, Signer};

use crate::harness::*;

fn legal(from: JobState, to: JobState) -> bool {
    use JobState::*;
    from == to
        || matches!(
            (from, to),
            // (Open → Revealing: a commit that draws an N = 1 job also completes its set.)
            (Open, Assigned | Revealing | Expired | Cancelled)
                | (Assigned, Revealing | Failed)
                | (Revealing, Settled | Failed)
        )
}

struct World {
    env: Env,
    buyers: Vec<User>,
    ops: Vec<Operator>,
    attacker: User,
    /// Per job: the digests nodes committed to, to reveal them (or not) later.
    commits: BTreeMap<(Pubkey, Pubkey), [u8; 32]>,
    job_states: BTreeMap<Pubkey, JobState>,
    terminal: BTreeMap<Pubkey, Vec<u8>>,
    node_unbonding: BTreeMap<Pubkey, bool>,
}

impl World {
    async fn new(rng: &mut StdRng) -> World {
        let p = default_params();
        let params = concord::MarketParams {
            execution_window: rng.gen_range(60..600),
            reveal_window: rng.gen_range(60..600),
            unbonding_period: rng.gen_range(60..3600),
            fee_bps: rng.gen_range(0..=1000),
            collateral_bps: rng.gen_range(0..=20_000),
            max_reassignments: rng.gen_range(0..=2),
            ..p
        };
        let mut env = Env::with(anchor_spl::token::ID, params).await;
        let mut buyers = vec![];
        for _ in 0..2 {
            buyers.push(env.user(500 * UNIT).await);
        }
        let mut ops = vec![];
        for _ in 0..4 {
            let stake = rng.gen_range(80..300) * UNIT;
            ops.push(env.operator(stake, 100 * UNIT).await);
        }
        env.next_epoch().await;
        let attacker = env.user(100 * UNIT).await;
        World {
            env,
            buyers,
            ops,
            attacker,
            commits: BTreeMap::new(),
            job_states: BTreeMap::new(),
            terminal: BTreeMap::new(),
            node_unbonding: BTreeMap::new(),
        }
    }

    fn pick_job(&self, rng: &mut StdRng) -> Option<Pubkey> {
        (!self.env.jobs.is_empty()).then(|| self.env.jobs[rng.gen_range(0..self.env.jobs.len())])
    }

    /// One random action: (instructions, signers) or a clock jump (None).
    async fn action(&mut self, rng: &mut StdRng) -> Option<(Vec<Instruction>, Vec<Keypair>)> {
        let op_i = rng.gen_range(0..self.ops.len());
        let b_i = rng.gen_range(0..self.buyers.len());
        let amount = [0, 1, UNIT, 20 * UNIT, 500 * UNIT, u64::MAX][rng.gen_range(0..6)];
        let job = self.pick_job(rng);
        let op_kp = self.ops[op_i].user.kp.insecure_clone();
        let buyer_kp = self.buyers[b_i].kp.insecure_clone();
        Some(match rng.gen_range(0u8..21) {
            16..=19 => return self.progress(rng).await,
            0 | 1 => {
                // Mostly valid jobs (so lifecycles complete), sometimes anything.
                let (n, q, reward) = if rng.gen_bool(0.7) {
                    let n = rng.gen_range(1..=3u8);
                    (n, n / 2 + 1, UNIT)
                } else {
                    let n = rng.gen_range(0..=4u8);
                    (
                        n,
                        rng.gen_range(0..=n + 1),
                        [0, UNIT, 5 * UNIT, u64::MAX / 3][rng.gen_range(0..4)],
                    )
                };
                let next = self.env.next_job().await;
                if !self.env.jobs.contains(&next) {
                    self.env.jobs.push(next);
                }
                let mut args = job_args(n, q, reward);
                // The market's fee, or sometimes a stale one.
                args.fee_bps = if rng.gen_bool(0.9) {
                    self.env.market_state().await.params.fee_bps
                } else {
                    rng.gen_range(0..=1000)
                };
                (
                    vec![self.env.create_job_ix(&self.buyers[b_i], next, args)],
                    vec![buyer_kp],
                )
            }
            2 | 3 => {
                // A draw crank: the honest seat accounts, or a random set of nodes.
                let j = job?;
                self.env.account(j).await?;
                let mut ix = self.env.draw_ix_unchecked(j).await;
                let seats: Vec<Pubkey> = if rng.gen_bool(0.7) {
                    self.env
                        .try_preview(j)
                        .await
                        .map(|p| p.seats)
                        .unwrap_or_default()
                } else {
                    self.ops
                        .iter()
                        .map(|o| o.node)
                        .filter(|_| rng.gen_bool(0.4))
                        .collect()
                };
                ix.accounts.extend(
                    seats
                        .into_iter()
                        .map(|k| solana_sdk::instruction::AccountMeta::new(k, false)),
                );
                (vec![ix], vec![])
            }
            4 | 5 => {
                let j = job?;
                let node = self.ops[op_i].node;
                let d = digest(rng.gen_range(1..3));
                self.commits.insert((j, node), d);
                let c = concord::state::commitment(&j, &node, &d, &salt(&node));
                (vec![self.env.commit_ix(node, j, c).await], vec![op_kp])
            }
            6 | 7 => {
                let j = job?;
                let node = self.ops[op_i].node;
                let d = if rng.gen_bool(0.9) {
                    self.commits.get(&(j, node)).copied().unwrap_or(digest(1))
                } else {
                    digest(9)
                };
                let ix = self.env.reveal_ix_any(node, j, d, salt(&node)).await?;
                (vec![ix], vec![op_kp])
            }
            8 | 9 => {
                let j = job?;
                self.env.account(j).await?;
                let mut ix = self.env.settle_ix(j).await;
                if rng.gen_bool(0.15) {
                    ix.accounts.truncate(7);
                    ix.accounts.extend(
                        self.ops
                            .iter()
                            .filter(|_| rng.gen_bool(0.5))
                            .map(|o| solana_sdk::instruction::AccountMeta::new(o.node, false)),
                    );
                }
                (vec![ix], vec![])
            }
            10 => {
                let j = job?;
                let ix = if rng.gen_bool(0.5) {
                    self.env.cancel_ix(&self.buyers[b_i], j)
                } else {
                    self.env.close_ix(&self.buyers[b_i], j)
                };
                (vec![ix], vec![buyer_kp])
            }
            11 => match rng.gen_range(0..6) {
                0 => (
                    vec![self.env.deposit_ix(&self.ops[op_i], amount)],
                    vec![op_kp],
                ),
                1 => {
                    let mut spec = gpu_spec();
                    spec.vram_mib = rng.gen_range(0..100_000);
                    spec.backends = rng.gen_range(0..4);
                    (
                        vec![self.env.update_node_ix(&self.ops[op_i], spec)],
                        vec![op_kp],
                    )
                }
                2 => {
                    // A newcomer registers with a random stake.
                    let user = self.env.user(300 * UNIT).await;
                    let ix = self.env.register_ix(
                        &user.key(),
                        user.token,
                        gpu_spec(),
                        amount.min(300 * UNIT),
                    );
                    let node = node_pda(&self.env.market, &user.key());
                    self.env.nodes.push(node);
                    self.env.operators.insert(node, user.kp.insecure_clone());
                    let kp = user.kp.insecure_clone();
                    self.ops.push(Operator { user, node });
                    (vec![ix], vec![kp])
                }
                3 => (
                    vec![self
                        .env
                        .set_available_ix(&op_kp.pubkey(), rng.gen_bool(0.6))],
                    vec![op_kp],
                ),
                4 => {
                    let ask = [0, 1, 1_000, u64::MAX][rng.gen_range(0..4)];
                    (vec![self.env.set_ask_ix(&op_kp.pubkey(), ask)], vec![op_kp])
                }
                _ => {
                    // Someone creates another market over the same mint: this one must not move.
                    let a = Keypair::new();
                    self.env.airdrop(&a.pubkey(), 10_000_000_000).await;
                    let pool = Keypair::new();
                    let rent = self.env.pool_rent().await;
                    let ixs = vec![
                        concord_client::ix::create_pool_account(&a.pubkey(), &pool.pubkey(), rent),
                        concord_client::ix::create_market(
                            &a.pubkey(),
                            7,
                            &self.env.mint,
                            &self.env.token_program,
                            &pool.pubkey(),
                            default_params(),
                        ),
                    ];
                    (ixs, vec![a, pool])
                }
            },
            12 => {
                let ix = match rng.gen_range(0..3) {
                    0 => self.env.unbond_ix(&self.ops[op_i]),
                    1 => self.env.withdraw_stake_ix(
                        &self.ops[op_i],
                        self.ops[op_i].user.token,
                        amount,
                    ),
                    _ => self.env.withdraw_earnings_ix(
                        &self.ops[op_i],
                        self.ops[op_i].user.token,
                        amount,
                    ),
                };
                (vec![ix], vec![op_kp])
            }
            13 => {
                // The attacker signs instructions that belong to others.
                let a = self.attacker.kp.insecure_clone();
                let ix = match rng.gen_range(0..4) {
                    0 => self
                        .env
                        .withdraw_treasury_ix(&a.pubkey(), self.attacker.token, amount),
                    1 => self.env.set_paused_ix(&a.pubkey(), true),
                    2 => {
                        let mut ix = self.env.withdraw_earnings_ix(
                            &self.ops[op_i],
                            self.attacker.token,
                            amount,
                        );
                        ix.accounts[0].pubkey = a.pubkey();
                        ix
                    }
                    _ => {
                        let j = job?;
                        let mut ix = self.env.cancel_ix(&self.buyers[b_i], j);
                        ix.accounts[0].pubkey = a.pubkey();
                        ix
                    }
                };
                (vec![ix], vec![a])
            }
            14 => {
                let auth = self.env.authority.insecure_clone();
                let ix = match rng.gen_range(0..4) {
                    0 => self.env.set_paused_ix(&auth.pubkey(), rng.gen_bool(0.3)),
                    1 => {
                        let dest = self.buyers[0].token;
                        self.env.withdraw_treasury_ix(&auth.pubkey(), dest, amount)
                    }
                    2 => self.env.sweep_ix(&auth.pubkey()),
                    _ => {
                        let mut p = default_params();
                        p.fee_bps = rng.gen_range(0..1200);
                        p.min_collateral = rng.gen_range(1..150) * UNIT;
                        p.collateral_bps = rng.gen_range(0..60_000);
                        p.max_reassignments = rng.gen_range(0..5);
                        self.env.update_market_ix(&auth.pubkey(), p)
                    }
                };
                (vec![ix], vec![auth])
            }
            15 => {
                self.env.warp(rng.gen_range(1..=HORIZON / 2)).await;
                return None;
            }
            _ => {
                self.env.advance(rng.gen_range(1..900)).await;
                return None;
            }
        })
    }

    /// Moves a random live job one honest step forward (claim, commit, reveal or settle), so
    /// sequences reach every terminal state, not only refusals.
    async fn progress(&mut self, rng: &mut StdRng) -> Option<(Vec<Instruction>, Vec<Keypair>)> {
        let live: Vec<Pubkey> = self
            .env
            .jobs
            .iter()
            .copied()
            .filter(|j| self.job_states.get(j).is_some_and(|s| !s.is_terminal()))
            .collect();
        let j = *live.get(rng.gen_range(0..live.len().max(1)))?;
        let acc = self.env.account(j).await?;
        let job: Job =
            anchor_lang::AccountDeserialize::try_deserialize(&mut acc.data.as_slice()).ok()?;
        let seat_of = |node: &Pubkey| job.seats.iter().find(|s| s.node == *node).map(|s| s.status);
        match job.state {
            JobState::Open if self.env.slot().await <= job.created_slot => {
                self.env.warp(1).await;
                None
            }
            // Drawn by a crank or by a seat holder's first commit.
            JobState::Open if rng.gen_bool(0.5) => Some((vec![self.env.draw_ix(j).await], vec![])),
            JobState::Open => {
                let seats = self.env.try_preview(j).await?.seats;
                let node = *seats.get(rng.gen_range(0..seats.len().max(1)))?;
                self.honest_commit(j, node).await
            }
            JobState::Assigned => {
                let node = job.seats[rng.gen_range(0..job.seats.len())].node;
                // Sometimes a seat holder never shows up: the deadline reassigns its seat.
                if seat_of(&node) == Some(concord::state::SeatStatus::Assigned) && rng.gen_bool(0.8)
                {
                    self.honest_commit(j, node).await
                } else {
                    Some((vec![self.env.settle_ix(j).await], vec![]))
                }
            }
            JobState::Revealing => {
                let node = job.seats[rng.gen_range(0..job.seats.len())].node;
                if seat_of(&node) == Some(concord::state::SeatStatus::Committed) {
                    let d = self.commits.get(&(j, node)).copied().unwrap_or(digest(1));
                    let kp = self.env.signer_of(&node);
                    Some((
                        vec![self.env.reveal_ix_with(node, j, d, salt(&node)).await],
                        vec![kp],
                    ))
                } else {
                    Some((vec![self.env.settle_ix(j).await], vec![]))
                }
            }
            _ => Some((vec![self.env.settle_ix(j).await], vec![])),
        }
    }

    async fn honest_commit(
        &mut self,
        j: Pubkey,
        node: Pubkey,
    ) -> Option<(Vec<Instruction>, Vec<Keypair>)> {
        let d = digest(1);
        self.commits.insert((j, node), d);
        let c = concord::state::commitment(&j, &node, &d, &salt(&node));
        let kp = self.env.signer_of(&node);
        Some((vec![self.env.commit_ix(node, j, c).await], vec![kp]))
    }

    /// Every check that follows a step.
    async fn check(
        &mut self,
        ixs: &[Instruction],
        ok: bool,
        before: &BTreeMap<Pubkey, Option<(u64, Vec<u8>)>>,
    ) {
        let after = self.env.snapshot().await;
        if !ok {
            for (k, v) in &after {
                // Accounts tracked only since this step (a job address being tried) must not exist.
                let was = before.get(k).unwrap_or(&None);
                assert!(was == v, "a failed transaction changed {k}");
            }
        }
        // Token accounts change only if the instruction names them.
        let named: Vec<Pubkey> = ixs
            .iter()
            .flat_map(|ix| ix.accounts.iter().map(|m| m.pubkey))
            .collect();
        for t in self
            .env
            .token_accounts
            .clone()
            .into_iter()
            .chain([self.env.vault])
        {
            if before.get(&t) != after.get(&t) {
                assert!(
                    named.contains(&t),
                    "token account {t} changed without being named"
                );
            }
        }
        for j in self.env.jobs.clone() {
            let Some(acc) = self.env.account(j).await else {
                if let Some(prev) = self.job_states.get(&j) {
                    assert!(prev.is_terminal(), "job {j} closed while {prev:?}");
                }
                continue;
            };
            let job: Job =
                anchor_lang::AccountDeserialize::try_deserialize(&mut acc.data.as_slice()).unwrap();
            if let Some(prev) = self.job_states.get(&j) {
                assert!(
                    legal(*prev, job.state),
                    "illegal transition {prev:?} -> {:?}",
                    job.state
                );
            }
            if let Some(frozen) = self.terminal.get(&j) {
                assert_eq!(frozen, &acc.data, "terminal job {j} changed");
            } else if job.state.is_terminal() {
                self.terminal.insert(j, acc.data.clone());
            }
            self.job_states.insert(j, job.state);
        }
        for n in self.env.nodes.clone() {
            if self.env.account(n).await.is_none() {
                continue; // a registration that was refused
            }
            let node = self.env.node(n).await;
            let unbonding = matches!(node.status, NodeStatus::Unbonding { .. });
            let was = self.node_unbonding.insert(n, unbonding).unwrap_or(false);
            assert!(
                !was || unbonding,
                "node {n} went from Unbonding back to Active"
            );
        }
    }
}

/// Runs one sequence; returns (succeeded, refused) transaction counts and the jobs that reached a
/// terminal state.
async fn run_sequence(seed: u64, steps: usize) -> (u32, u32, usize) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut w = World::new(&mut rng).await;
    let (mut good, mut bad) = (0, 0);
    for _ in 0..steps {
        // The action may set things up first (a newcomer's wallet): snapshot after that.
        let Some((ixs, signers)) = w.action(&mut rng).await else {
            continue;
        };
        let before = w.env.snapshot().await;
        let refs: Vec<&Keypair> = signers.iter().collect();
        let ok = w.env.send(&ixs, &refs).await.is_ok(); // the harness checks the invariant
        if ok {
            good += 1;
        } else {
            bad += 1;
        }
        w.check(&ixs, ok, &before).await;
    }
    (good, bad, w.terminal.len())
}

#[tokio::test]
async fn random_instruction_sequences_keep_every_invariant() {
    let sequences: u64 = std::env::var("CONCORD_FUZZ_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let seed: u64 = std::env::var("CONCORD_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xC0DE);
    let started = std::time::Instant::now();
    let (mut good, mut bad, mut terminal) = (0, 0, 0);
    for s in 0..sequences {
        let (g, b, t) = run_sequence(seed.wrapping_add(s), 60).await;
        (good, bad, terminal) = (good + g, bad + b, terminal + t);
        if (s + 1) % 100 == 0 {
            eprintln!(
                "fuzz progress: {} sequences, {good} succeeded, {bad} refused, {terminal} terminal jobs, {:.0}s",
                s + 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
    println!(
        "fuzz: {sequences} sequences × 60 steps from seed {seed:#x} in {:.1}s: {good} transactions succeeded, {bad} refused, {terminal} jobs reached a terminal state",
        started.elapsed().as_secs_f64()
    );
    assert!(
        good > 0 && bad > 0 && terminal > 0,
        "the generator must exercise both outcomes and finish jobs"
    );
}
