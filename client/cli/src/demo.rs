//! `concord demo`: the whole market on this machine. An embedded network, a demo market with
//! short windows, W in-process workers (one dishonest, one stalled, or a Sybil adversary on
//! request), and a buyer whose batch covers every kernel of the catalogue with N = 3, Q = 2 (or,
//! against a Sybil adversary, many small jobs); each job's draw as it happens (who was picked,
//! who was skipped and why), live progress, then a summary with real numbers and the
//! conservation invariant checked on chain.

use concord_client::concord;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concord::state::{JobState, MarketParams, SeatStatus};
use concord::Requirements;
use concord_client::amount::format_amount;
use concord_client::kernels::KernelParams;
use concord_client::{data, ix, ConcordClient, JobHandle, JobSpec};
use concord_localnet::{Localnet, LocalnetConfig};
use concord_worker::metrics::Metrics;
use concord_worker::{Fault, Publish, Worker, WorkerConfig, WorkerHandle};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

use crate::local_nodes::worker_config;
use crate::output::Output;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Number of honest workers (at least 3; 4 or more leave backups for reassignment)
    #[arg(long, default_value_t = 5)]
    workers: usize,
    /// Make this many workers dishonest (test-only fault: they flip a bit of every output)
    #[arg(long, default_value_t = 0)]
    dishonest: usize,
    /// Kill an honest worker holding a seat of the first job before it commits: its seat goes
    /// to a backup at the commit deadline; it is then restarted from its journal
    #[arg(long)]
    kill_worker: bool,
    /// Add a Sybil adversary holding this fraction of all stake (e.g. 0.2), split over
    /// --sybil-identities nodes that all reveal the same garbage; runs --jobs small jobs and
    /// prints the adversary's measured success rate beside the binomial prediction
    #[arg(long, value_parser = parse_fraction)]
    sybil: Option<f64>,
    /// Identities the Sybil adversary splits its stake over
    #[arg(long, default_value_t = 3)]
    sybil_identities: usize,
    /// Jobs submitted in --sybil mode
    #[arg(long, default_value_t = 30)]
    jobs: usize,
    /// Where the demo's keypairs, journals and outputs go
    #[arg(long, default_value = ".concord/demo")]
    data_dir: PathBuf,
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f > 0.0 && f < 0.5 => Ok(f),
        _ => Err(format!(
            "'{s}' must be a stake fraction strictly between 0 and 0.5"
        )),
    }
}

/// The demo market: short windows so that a deadline (and a reassignment) passes in seconds.
fn demo_params(unit: u64) -> MarketParams {
    MarketParams {
        fee_bps: 250,
        min_stake: 100 * unit,
        min_collateral: 20 * unit,
        collateral_bps: 10_000,
        execution_window: 12,
        reveal_window: 12,
        unbonding_period: 600,
        max_replication: 7,
        draw_horizon_slots: 24,
        max_reassignments: 1,
    }
}

/// P[Bin(n, f) ≥ q].
pub fn binomial_tail(n: u32, f: f64, q: u32) -> f64 {
    (q..=n)
        .map(|k| {
            let c = (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1));
            c * f.powi(k as i32) * (1.0 - f).powi((n - k) as i32)
        })
        .sum()
}

/// A worker of the demo, with the configuration it was started from (to restart it).
struct Running {
    handle: WorkerHandle,
    cfg: WorkerConfig,
}

impl Running {
    fn worker(&self) -> &Worker {
        self.handle.worker()
    }
}

fn start(cfg: WorkerConfig) -> Result<Running> {
    Ok(Running {
        handle: Worker::spawn(cfg.clone())?,
        cfg,
    })
}

/// The demo's batch: one job of every kernel, with deterministic inputs.
fn batch(dir: &std::path::Path) -> Result<Vec<(KernelParams, String, [u8; 32])>> {
    let jobs = [
        KernelParams::MatmulF32 {
            m: 64,
            n: 48,
            k: 96,
        },
        KernelParams::MatmulI8 {
            m: 64,
            n: 64,
            k: 128,
        },
        KernelParams::MlpF32 {
            batch: 16,
            sizes: vec![32, 64, 10],
        },
        KernelParams::Mandelbrot {
            width: 160,
            height: 120,
            cx: -0.6,
            cy: 0.0,
            scale: 0.02,
            max_iter: 200,
        },
        KernelParams::Sha256Batch {
            count: 512,
            len: 100,
        },
    ];
    let mut out = vec![];
    for (i, p) in jobs.into_iter().enumerate() {
        let bytes = crate::job::random_input(&p, 1000 + i as u64);
        let (uri, digest) = if bytes.len() <= data::INLINE_MAX {
            (data::inline_uri(&bytes), data::sha256(&bytes))
        } else {
            let path = dir.join(format!("input-{}.bin", p.kernel().name()));
            std::fs::write(&path, &bytes)?;
            (data::file_uri(&path)?, data::sha256(&bytes))
        };
        out.push((p, uri, digest));
    }
    Ok(out)
}

pub async fn run(args: DemoArgs, out: Output) -> Result<()> {
    if args.workers < 3 {
        bail!("--workers must be at least 3 (jobs use N = 3)");
    }
    if args.dishonest * 2 >= 3 || args.dishonest >= args.workers {
        bail!("--dishonest must leave an honest majority of each job's 3 seats: use 0 or 1");
    }
    if args.kill_worker && args.workers < 4 {
        bail!("--kill-worker needs at least 4 workers: a stalled seat goes to a backup");
    }
    if args.sybil.is_some() && (args.sybil_identities == 0 || args.jobs == 0) {
        bail!("--sybil needs at least one identity and one job");
    }
    let started = Instant::now();
    let dir = std::path::absolute(&args.data_dir)?;
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("cannot clear {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let say = |s: String| {
        if !out.json() {
            crate::output::print(&format!("{s}\n"));
        }
    };

    let net = Localnet::start(LocalnetConfig {
        rpc_port: 0,
        data_dir: dir.join("localnet"),
        slot_time: Duration::from_millis(400),
        ..Default::default()
    })
    .await?;
    say(format!(
        "embedded Solana network at {} (program {})",
        net.url, net.info.program_id
    ));
    let kp_of = |p: &PathBuf| read_keypair_file(p).map_err(|e| anyhow::anyhow!("{e}"));
    let buyer_kp = kp_of(&net.info.buyer_keypair)?;
    let buyer = ConcordClient::new(net.url.clone(), buyer_kp.insecure_clone());
    let local = buyer.market(&net.info.market()).await?;
    let d = local.state.mint_decimals;
    let unit = 10u64.pow(u32::from(d));

    // A market of the demo's own, with short windows.
    let authority = kp_of(&net.info.authority_keypair)?;
    let admin = ConcordClient::new(net.url.clone(), authority.insecure_clone());
    let pool = Keypair::new();
    let rent = buyer
        .rpc()
        .get_minimum_balance_for_rent_exemption(concord::state::Pool::SIZE)
        .await?;
    let params = demo_params(unit);
    admin
        .send(
            &[
                ix::create_pool_account(&authority.pubkey(), &pool.pubkey(), rent),
                ix::create_market(
                    &authority.pubkey(),
                    1,
                    &local.mint(),
                    &local.token_program(),
                    &pool.pubkey(),
                    params,
                ),
            ],
            &[&pool],
        )
        .await?;
    let market_key = concord_client::pda::market_address(&authority.pubkey(), 1);
    let market = buyer.market(&market_key).await?;
    let mut setup_tx = 1u64;
    say(format!(
        "demo market {market_key}: commit and reveal windows {} s, draw horizon {} slots",
        params.execution_window, params.draw_horizon_slots
    ));

    // Honest operators (the bootstrapped ones first), then the Sybil adversary's identities,
    // each of which must hold the minimum stake with room for many slashes (else the first
    // slashes would push it out of the draw): the honest stake grows to allow it.
    let k = args.sybil_identities as f64;
    let honest_stake = match args.sybil {
        Some(f) => {
            let needed = 4.0 * params.min_stake as f64 * k * (1.0 - f) / (f * args.workers as f64);
            (200 * unit).max(needed.ceil() as u64)
        }
        None => 200 * unit,
    };
    if honest_stake > 9_000 * unit {
        bail!(
            "--sybil {:.3} over {} identities needs {} tokens of honest stake per node for every \
             identity to reach the minimum stake; use a larger fraction or fewer identities",
            args.sybil.unwrap_or(0.0),
            args.sybil_identities,
            format_amount(honest_stake, d)
        );
    }
    let sybil_stake = args.sybil.map(|f| {
        let total_honest = honest_stake as f64 * args.workers as f64;
        ((f * total_honest / (1.0 - f)) / k).round() as u64
    });
    let sybils = if args.sybil.is_some() {
        args.sybil_identities
    } else {
        0
    };
    let mut nodes: Vec<(PathBuf, u64, String)> = vec![];
    for i in 0..args.workers + sybils {
        let (label, stake) = if i < args.workers {
            (format!("#{}", i + 1), honest_stake)
        } else {
            (
                format!("S{}", i - args.workers + 1),
                sybil_stake.expect("sybil mode"),
            )
        };
        // Honest nodes take the bootstrapped operators first; every Sybil identity (an index
        // past them, as --workers is at least 3) is a new funded keypair.
        let p = net.operator_keypair(i, &dir, stake + 1_000 * unit).await?;
        let kp = kp_of(&p)?;
        net.register_cpu_node(&market, &kp, stake).await?;
        setup_tx += 1;
        nodes.push((p, stake, label));
    }
    say(format!(
        "{} honest nodes with {} tokens of stake each{}{}",
        args.workers,
        format_amount(honest_stake, d),
        match args.sybil {
            Some(f) => format!(
                "; a Sybil adversary with {:.0} % of all stake over {sybils} identities ({} tokens each), revealing garbage",
                f * 100.0,
                format_amount(sybil_stake.unwrap_or(0), d)
            ),
            None => String::new(),
        },
        if args.dishonest > 0 { format!("; {} dishonest", args.dishonest) } else { String::new() },
    ));

    let mut workers: Vec<Running> = vec![];
    for (i, (p, _, _)) in nodes.iter().enumerate() {
        let fault = if i >= args.workers || i < args.dishonest {
            Some(Fault::FlipOutputByteForTesting)
        } else if args.kill_worker {
            // Honest workers wait a little before computing, so that one can be killed while
            // it holds a seat it has not committed to.
            Some(Fault::DelayBeforeComputeForTesting)
        } else {
            None
        };
        let wdir = dir.join(format!("worker-{}", i + 1));
        let publish = Publish::File {
            dir: wdir.join("public"),
        };
        workers.push(start(worker_config(
            &net,
            p.clone(),
            &market_key,
            wdir,
            publish,
            fault,
        ))?);
    }
    let labels: std::collections::BTreeMap<Pubkey, String> = workers
        .iter()
        .zip(&nodes)
        .map(|(w, (_, _, l))| (market.node_address(&w.worker().operator()), l.clone()))
        .collect();
    let label = |node: &Pubkey| {
        labels
            .get(node)
            .cloned()
            .unwrap_or_else(|| node.to_string())
    };

    let slot = buyer.wait_for_next_pool_epoch(&market).await?;
    say(format!(
        "pool epoch starts at slot {slot}: the nodes are in the draw\n"
    ));

    // The buyer's batch.
    let mut specs = vec![];
    if args.sybil.is_some() {
        for i in 0..args.jobs {
            let p = KernelParams::MatmulF32 {
                m: 16,
                n: 16,
                k: 16,
            };
            let bytes = crate::job::random_input(&p, 5000 + i as u64);
            let path = dir.join(format!("input-{i}.bin"));
            std::fs::write(&path, &bytes)?;
            specs.push((p, data::file_uri(&path)?, data::sha256(&bytes)));
        }
    } else {
        specs = batch(&dir)?;
    }
    let references: Vec<[u8; 32]> = specs
        .iter()
        .map(|(p, uri, _)| {
            let bytes = std::fs::read(uri.trim_start_matches("file://")).ok();
            let input = match bytes {
                Some(b) => b,
                None => base64::Engine::decode(
                    &base64::engine::general_purpose::STANDARD,
                    uri.trim_start_matches("inline:"),
                )
                .unwrap_or_default(),
            };
            concord_worker::kernels::run_cpu(p, &input, &concord_client::kernels::Limits::default())
                .map(|o| data::sha256(&o))
                .unwrap_or([0; 32])
        })
        .collect();
    let mut handles: Vec<(JobHandle, Instant)> = vec![];
    for (params, uri, digest) in specs {
        let spec = JobSpec {
            params,
            input_uri: uri,
            input_digest: digest,
            requirements: Requirements {
                min_vram_mib: 0,
                min_compute_capability: 0,
                backends: concord::constants::BACKEND_CPU,
                min_agreed: 0,
                max_fault_bps: 10_000,
            },
            replication: 3,
            quorum: 2,
            reward_per_worker: unit,
        };
        let h = buyer.submit_job(&market_key, &buyer_kp, &spec).await?;
        handles.push((h, Instant::now()));
    }
    say(format!(
        "buyer submitted {} jobs (N = 3, Q = 2, reward 1 token per worker); each is drawn in a later slot\n",
        handles.len()
    ));

    // Live progress.
    let multi = MultiProgress::new();
    let quiet = out.json() || args.sybil.is_some();
    if quiet {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let note = |msg: String| {
        if multi.is_hidden() {
            say(msg);
        } else {
            multi.println(msg).ok();
        }
    };
    let style = ProgressStyle::with_template("{prefix:>14} {spinner} {msg}").expect("template");
    let bars: Vec<ProgressBar> = handles
        .iter()
        .map(|(h, _)| {
            let b = multi.add(ProgressBar::new_spinner());
            b.set_style(style.clone());
            b.set_prefix(format!("job {}", h.id));
            b.enable_steady_tick(Duration::from_millis(150));
            b
        })
        .collect();
    let worker_bar = multi.add(ProgressBar::new_spinner());
    worker_bar.set_style(ProgressStyle::with_template("{prefix:>14}   {msg}").expect("template"));
    worker_bar.set_prefix("workers");

    // --kill-worker: an honest seat holder of the first job, killed before it commits.
    let mut victim: Option<usize> = None;
    if args.kill_worker {
        let (h, _) = &handles[0];
        let job = h.fetch().await?;
        while buyer.slot().await? <= job.created_slot {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let preview = buyer.preview_draw(&market, &h.address, &job).await?;
        let honest = preview.seats.iter().find_map(|s| {
            workers
                .iter()
                .position(|w| market.node_address(&w.worker().operator()) == *s)
                .filter(|i| *i >= args.dishonest && *i < args.workers)
        });
        if let Some(v) = honest {
            workers[v].handle.kill();
            victim = Some(v);
            note(format!(
                "  ✂ killed worker {} (drawn for job {}) before it committed",
                nodes[v].2, h.id
            ));
        }
    }
    // Transactions of worker processes replaced by --kill-worker.
    let mut retired = (0u64, 0u64);
    let mut restarted = false;
    let mut drawn = vec![false; handles.len()];
    // Each job's draw as previewed while it was still open: who it skips, and why.
    let mut previews: Vec<Option<concord_client::draw::DrawPreview>> = vec![None; handles.len()];
    let mut reassigned_seen = vec![0u8; handles.len()];
    let mut done: Vec<Option<(concord_client::JobResult, Duration)>> = vec![None; handles.len()];
    let deadline = Instant::now() + Duration::from_secs(600);
    while done.iter().any(Option::is_none) {
        if Instant::now() > deadline {
            bail!("jobs did not settle within 10 minutes");
        }
        for (i, (h, submitted)) in handles.iter().enumerate() {
            if done[i].is_some() {
                continue;
            }
            let job = h.fetch().await?;
            if job.state == JobState::Open && previews[i].is_none() {
                previews[i] = buyer.preview_draw(&market, &h.address, &job).await.ok();
            }
            if job.state != JobState::Open && !drawn[i] {
                drawn[i] = true;
                // The draw, recomputed from public data: seats, backups, and who was skipped.
                let seats: Vec<String> = job.seats.iter().map(|s| label(&s.node)).collect();
                let backups: Vec<String> = job.backups.iter().map(label).collect();
                let mut line = format!(
                    "  job {} drawn (seed {}…): seats {}  backups {}",
                    h.id,
                    &hex::encode(job.seed)[..8],
                    seats.join(" "),
                    if backups.is_empty() {
                        "-".into()
                    } else {
                        backups.join(" ")
                    }
                );
                // The skips, from the preview made while the job was open (if it drew the same
                // committee; the program's SkippedNode events are the record).
                let drawn_seats: Vec<Pubkey> = job.seats.iter().map(|s| s.node).collect();
                if let Some(p) = previews[i].as_ref().filter(|p| p.seats == drawn_seats) {
                    if !p.skipped.is_empty() {
                        let s: Vec<String> = p
                            .skipped
                            .iter()
                            .map(|(n, r)| format!("{} ({r:?})", label(n)))
                            .collect();
                        line.push_str(&format!("  skipped {}", s.join(", ")));
                    }
                }
                if args.sybil.is_none() || i < 5 {
                    note(line);
                }
            }
            if job.reassignments > reassigned_seen[i] {
                reassigned_seen[i] = job.reassignments;
                let seats: Vec<String> = job.seats.iter().map(|s| label(&s.node)).collect();
                note(format!(
                    "  job {}: commit deadline passed; no-show slashed, seat reassigned to a backup: seats now {}",
                    h.id,
                    seats.join(" ")
                ));
            }
            let n = job.seats.len().max(1);
            let committed = job
                .seats
                .iter()
                .filter(|s| s.status != SeatStatus::Assigned)
                .count();
            let revealed = job
                .seats
                .iter()
                .filter(|s| !s.output_uri.is_empty())
                .count();
            bars[i].set_message(format!(
                "{:<13} {:<9} commits {committed}/{n} reveals {revealed}/{n}",
                concord_client::Kernel::from_id(job.kernel)
                    .map(|k| k.name())
                    .unwrap_or("?"),
                format!("{:?}", job.state),
            ));
            if job.state.is_terminal() {
                bars[i].finish();
                done[i] = Some((concord_client::job::result_of(job), submitted.elapsed()));
            } else {
                let _ = buyer.crank(&market, &h.address, &job).await;
            }
        }
        // The killed worker comes back once its seat was handed on.
        if let Some(v) = victim {
            if !restarted && reassigned_seen[0] > 0 {
                let (t, g) = workers[v].worker().client_stats().get();
                retired = (retired.0 + t, retired.1 + g);
                let mut cfg = workers[v].cfg.clone();
                cfg.fault = None;
                note(format!(
                    "  worker {} restarted from its journal: the seat it missed is gone, its other seats are served",
                    nodes[v].2
                ));
                workers[v] = start(cfg)?;
                restarted = true;
            }
        }
        worker_bar.set_message(
            workers
                .iter()
                .zip(&nodes)
                .map(|(w, (_, _, l))| {
                    let m = &w.worker().metrics;
                    format!(
                        "{l} c{} r{} paid{} slashed{}",
                        Metrics::get(&m.jobs_committed),
                        Metrics::get(&m.jobs_revealed),
                        Metrics::get(&m.jobs_paid),
                        Metrics::get(&m.jobs_slashed)
                    )
                })
                .collect::<Vec<_>>()
                .join(" · "),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    worker_bar.finish();

    // Outputs verified, jobs closed (rent back), earnings withdrawn.
    let rpc = buyer.rpc();
    let mut rent_paid = 0u64;
    let mut rows = vec![];
    let mut adversary_wins = 0usize;
    let mut adversary_seats = 0usize;
    for (((h, _), r), reference) in handles.iter().zip(&done).zip(&references) {
        let (r, latency) = r.as_ref().expect("all done");
        let verified = match r.state {
            JobState::Settled => r.fetch_verified_output(64 << 20).await.is_ok(),
            _ => false,
        };
        rent_paid += rpc.get_balance(&h.address).await?;
        let ata = market.token_account_of(&buyer_kp.pubkey());
        buyer
            .send(
                &[ix::close_job(&market, &h.address, &buyer_kp.pubkey(), &ata)],
                &[&buyer_kp],
            )
            .await?;
        let who = |status: SeatStatus| -> Vec<String> {
            r.job
                .seats
                .iter()
                .filter(|s| s.status == status)
                .map(|s| label(&s.node))
                .collect()
        };
        let (paid, slashed) = (who(SeatStatus::Paid), who(SeatStatus::Slashed));
        adversary_seats += r
            .job
            .seats
            .iter()
            .filter(|s| label(&s.node).starts_with('S'))
            .count();
        let wrong = r.accepted_digest.is_some_and(|a| a != *reference);
        adversary_wins += usize::from(wrong);
        let fee = if r.state == JobState::Settled {
            r.job.fee
        } else {
            0
        };
        let refund = r.job.reward_per_worker * u64::from(r.job.replication) + r.job.fee
            - fee
            - r.job.reward_per_worker * paid.len() as u64;
        rows.push(json!({
            "job": h.id,
            "kernel": concord_client::Kernel::from_id(r.job.kernel).map(|k| k.name()).unwrap_or("?"),
            "state": format!("{:?}", r.state),
            "accepted_digest": r.accepted_digest.map(hex::encode),
            "correct": r.accepted_digest.map(|a| a == *reference),
            "output_verified": verified,
            "latency_secs": (latency.as_secs_f64() * 10.0).round() / 10.0,
            "seats": r.job.seats.iter().map(|s| label(&s.node)).collect::<Vec<_>>(),
            "reassignments": r.job.reassignments,
            "paid": paid,
            "slashed": slashed,
            "fee": format_amount(fee, d),
            "refund": format_amount(refund, d),
        }));
    }
    for w in &workers {
        let kp = kp_of(&w.cfg.keypair)?;
        let node = buyer.node(&market.node_address(&kp.pubkey())).await?;
        if node.earnings > 0 {
            let c = ConcordClient::new(net.url.clone(), kp.insecure_clone());
            let ata = market.token_account_of(&kp.pubkey());
            c.send(
                &[ix::withdraw_earnings(
                    &market,
                    &kp.pubkey(),
                    &ata,
                    node.earnings,
                )],
                &[&kp],
            )
            .await?;
            setup_tx += 1;
        }
    }
    for w in &workers {
        w.handle.stop();
    }
    let (vault, expected) = buyer.check_conservation(&market_key).await?;
    let (buyer_tx, buyer_sigs) = buyer.stats().get();
    let worker_tx: u64 = workers
        .iter()
        .map(|w| w.worker().client_stats().get().0)
        .sum();
    let worker_sigs: u64 = workers
        .iter()
        .map(|w| w.worker().client_stats().get().1)
        .sum();
    let txs = buyer_tx + worker_tx + setup_tx + retired.0;
    let sigs = buyer_sigs + worker_sigs + setup_tx + retired.1;
    let m = buyer.market(&market_key).await?;
    let sybil = args.sybil.map(|f| {
        let jobs = handles.len();
        let rate = adversary_wins as f64 / jobs as f64;
        // 95 % Wilson interval of the measured rate.
        let (n, z) = (jobs as f64, 1.96f64);
        let centre = (rate + z * z / (2.0 * n)) / (1.0 + z * z / n);
        let half = z * (rate * (1.0 - rate) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
        json!({
            "stake_fraction": f,
            "identities": sybils,
            "jobs": jobs,
            "adversary_quorums": adversary_wins,
            "measured_rate": rate,
            "rate_95ci": [(centre - half).max(0.0), (centre + half).min(1.0)],
            "binomial_prediction": binomial_tail(3, f, 2),
            "adversary_mean_seats": adversary_seats as f64 / jobs as f64,
        })
    });
    let summary = json!({
        "market": market_key.to_string(),
        "jobs": rows,
        "sybil": sybil,
        "transactions": txs,
        "signatures": sigs,
        "fees_lamports": sigs * 5_000,
        "job_rent_paid_lamports": rent_paid,
        "job_rent_reclaimed_lamports": rent_paid,
        "treasury": format_amount(m.state.treasury, d),
        "vault": format_amount(vault, d),
        "conservation_holds": vault == expected,
        "workers": args.workers,
        "dishonest": args.dishonest,
        "worker_killed_and_restarted": restarted,
        "elapsed_secs": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    out.emit(summary.clone(), || {
        let mut s = String::new();
        if args.sybil.is_none() || rows.len() <= 10 {
            s.push_str("\n job  kernel         state    latency  seats        paid         slashed  fee     refund  output\n");
            for r in &rows {
                let list = |v: &serde_json::Value| v.as_array().map(|a| a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(",")).unwrap_or_default();
                s.push_str(&format!(
                    " {:>3}  {:<13}  {:<8} {:>6.1}s  {:<12} {:<12} {:<8} {:<7} {:<7} {}\n",
                    r["job"], r["kernel"].as_str().unwrap_or(""), r["state"].as_str().unwrap_or(""), r["latency_secs"].as_f64().unwrap_or(0.0),
                    list(&r["seats"]), list(&r["paid"]), list(&r["slashed"]), r["fee"].as_str().unwrap_or(""), r["refund"].as_str().unwrap_or(""),
                    if r["output_verified"] == true { "verified" } else { "-" },
                ));
            }
        }
        if let Some(sy) = &sybil {
            s.push_str(&format!(
                "\n Sybil adversary: {:.0} % of stake over {} identities, {} jobs of N = 3, Q = 2\n   it reached a quorum on garbage in {} jobs: measured {:.1} % (95 % CI {:.1}–{:.1} %) vs P[Bin(3, {:.2}) ≥ 2] = {:.1} %\n   mean adversary seats per job {:.2} (stake share × 3 = {:.2}); outvoted, its identities were slashed\n",
                sy["stake_fraction"].as_f64().unwrap_or(0.0) * 100.0,
                sy["identities"],
                sy["jobs"],
                sy["adversary_quorums"],
                sy["measured_rate"].as_f64().unwrap_or(0.0) * 100.0,
                sy["rate_95ci"][0].as_f64().unwrap_or(0.0) * 100.0,
                sy["rate_95ci"][1].as_f64().unwrap_or(0.0) * 100.0,
                sy["stake_fraction"].as_f64().unwrap_or(0.0),
                sy["binomial_prediction"].as_f64().unwrap_or(0.0) * 100.0,
                sy["adversary_mean_seats"].as_f64().unwrap_or(0.0),
                sy["stake_fraction"].as_f64().unwrap_or(0.0) * 3.0,
            ));
        }
        s.push_str(&format!(
            "\n transactions {txs} ({sigs} signatures, {} lamports in fees) · job rent paid {} lamports, all reclaimed on close\n treasury {} tokens (fees{}) · vault {} tokens\n conservation invariant on chain: vault = stake + earnings + escrow + treasury: {}\n done in {:.1}s\n",
            sigs * 5_000,
            rent_paid,
            format_amount(m.state.treasury, d),
            if args.dishonest > 0 || args.kill_worker || args.sybil.is_some() { " + slashed collateral" } else { "" },
            format_amount(vault, d),
            if vault == expected { "holds ✓" } else { "VIOLATED ✗" },
            started.elapsed().as_secs_f64()
        ));
        s
    });
    if vault != expected {
        bail!("conservation invariant violated: vault {vault} != {expected}");
    }
    Ok(())
}
