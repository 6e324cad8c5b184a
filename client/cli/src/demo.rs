//! `concord demo`: the whole market on this machine. An embedded network, W in-process workers
//! (some dishonest on request, one killed and restarted on request), and a buyer whose batch
//! covers every kernel of the catalogue with N = 3, Q = 2; live progress, then a summary with real
//! numbers and the conservation invariant checked on chain.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use concord::state::{JobState, SlotStatus};
use concord::Requirements;
use concord_client::amount::format_amount;
use concord_client::kernels::KernelParams;
use concord_client::{data, ix, ConcordClient, JobHandle, JobSpec};
use concord_localnet::{Localnet, LocalnetConfig};
use concord_worker::journal::{Journal, Step};
use concord_worker::metrics::Metrics;
use concord_worker::{Fault, Publish, Worker, WorkerConfig};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, write_keypair_file, Keypair, Signer};
use tokio::sync::watch;

use crate::output::Output;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Number of workers (at least 3)
    #[arg(long, default_value_t = 3)]
    workers: usize,
    /// Make this many workers dishonest (test-only fault: they flip a bit of every output)
    #[arg(long, default_value_t = 0)]
    dishonest: usize,
    /// Kill one worker after it commits, then restart it from its journal
    #[arg(long)]
    kill_worker: bool,
    /// Where the demo's keypairs, journals and outputs go
    #[arg(long, default_value = ".concord/demo")]
    data_dir: PathBuf,
}

struct Running {
    worker: Arc<Worker>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<Result<()>>,
    cfg: WorkerConfig,
}

fn start(cfg: WorkerConfig) -> Result<Running> {
    let worker = Worker::new(cfg.clone())?;
    let (stop, rx) = watch::channel(false);
    let task = tokio::spawn(Arc::clone(&worker).run(rx));
    Ok(Running {
        worker,
        stop,
        task,
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
        bail!("--dishonest must leave an honest majority of each job's 3 slots: use 0 or 1");
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
    })
    .await?;
    say(format!(
        "embedded Solana network at {} (program {})",
        net.url, net.info.program_id
    ));
    let market_key = net.info.market();
    let buyer_kp =
        read_keypair_file(&net.info.buyer_keypair).map_err(|e| anyhow::anyhow!("{e}"))?;
    let buyer = ConcordClient::new(net.url.clone(), buyer_kp.insecure_clone());
    let market = buyer.market(&market_key).await?;
    let d = market.state.mint_decimals;
    let unit = 10u64.pow(u32::from(d));

    // Operators: the bootstrapped ones, plus funded new ones beyond three.
    let mut keypairs: Vec<PathBuf> = net.info.operator_keypairs.clone();
    for i in keypairs.len()..args.workers {
        let p = dir.join(format!("operator-{}.json", i + 1));
        let kp = Keypair::new();
        write_keypair_file(&kp, &p).map_err(|e| anyhow::anyhow!("{e}"))?;
        net.fund(&kp.pubkey(), 10_000_000_000, 1_000 * unit).await?;
        keypairs.push(p);
    }
    let mut setup_tx = 0u64;
    for p in &keypairs {
        let kp = read_keypair_file(p).map_err(|e| anyhow::anyhow!("{e}"))?;
        let c = ConcordClient::new(net.url.clone(), kp.insecure_clone());
        let spec = concord::NodeSpec {
            gpu_model: "CPU backend".into(),
            vram_mib: 0,
            compute_capability: 0,
            backends: concord::constants::BACKEND_CPU,
        };
        let token = market.token_account_of(&kp.pubkey());
        c.send(
            &[ix::register_node(
                &market,
                &kp.pubkey(),
                &token,
                spec,
                200 * unit,
            )],
            &[&kp],
        )
        .await?;
        setup_tx += 1;
    }
    say(format!(
        "{} nodes registered with 200 tokens of stake each ({} dishonest for this demo)",
        args.workers, args.dishonest
    ));

    let mut workers: Vec<Running> = vec![];
    for (i, p) in keypairs.iter().enumerate() {
        let wdir = dir.join(format!("worker-{}", i + 1));
        workers.push(start(WorkerConfig {
            rpc_url: net.url.clone(),
            keypair: p.clone(),
            market: market_key.to_string(),
            backends: vec!["cpu".into()],
            max_concurrent_jobs: 5,
            max_input_bytes: 64 << 20,
            publish: Publish::File {
                dir: wdir.join("public"),
            },
            data_dir: wdir,
            poll_interval_ms: 300,
            priority_fee: None,
            metrics_addr: None,
            withdraw_threshold: None,
            fault: (i < args.dishonest).then_some(Fault::FlipOutputByteForTesting),
        })?);
    }

    // The buyer's batch.
    let mut handles: Vec<(JobHandle, Instant)> = vec![];
    for (params, uri, digest) in batch(&dir)? {
        let spec = JobSpec {
            params,
            input_uri: uri,
            input_digest: digest,
            requirements: Requirements {
                min_vram_mib: 0,
                min_compute_capability: 0,
                backends: concord::constants::BACKEND_CPU,
            },
            replication: 3,
            quorum: 2,
            reward_per_worker: unit,
        };
        let h = buyer.submit_job(&market_key, &buyer_kp, &spec).await?;
        handles.push((h, Instant::now()));
    }
    say(format!(
        "buyer submitted {} jobs (every kernel, N = 3, Q = 2, reward 1 token per worker)\n",
        handles.len()
    ));

    // Live progress.
    let multi = MultiProgress::new();
    if out.json() {
        multi.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
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

    let mut killed = false;
    // Transactions of worker processes replaced by --kill-worker.
    let mut retired = (0u64, 0u64);
    let mut done: Vec<Option<(concord_client::JobResult, Duration)>> = vec![None; handles.len()];
    let deadline = Instant::now() + Duration::from_secs(600);
    while done.iter().any(Option::is_none) {
        if Instant::now() > deadline {
            bail!("jobs did not settle within 10 minutes");
        }
        if args.kill_worker && !killed {
            let victim = args.dishonest; // an honest worker
            let journal = Journal::open(&workers[victim].cfg.data_dir.join("journal"))?;
            // Mid-job: it has committed (and maybe revealed) but the job has not settled for it.
            if journal
                .all()
                .iter()
                .any(|e| matches!(e.step, Step::Committed | Step::Revealed))
            {
                workers[victim].task.abort();
                let (t, g) = workers[victim].worker.client_stats().get();
                retired = (retired.0 + t, retired.1 + g);
                let cfg = workers[victim].cfg.clone();
                let msg = format!(
                    "  ✂ killed worker #{} after it committed; restarted it from its journal",
                    victim + 1
                );
                if multi.is_hidden() {
                    say(msg);
                } else {
                    multi.println(msg).ok();
                }
                workers[victim] = start(cfg)?;
                killed = true;
            }
        }
        for (i, (h, submitted)) in handles.iter().enumerate() {
            if done[i].is_some() {
                continue;
            }
            let job = h.fetch().await?;
            let committed = job
                .slots
                .iter()
                .filter(|s| s.status != SlotStatus::Claimed)
                .count();
            let revealed = job
                .slots
                .iter()
                .filter(|s| !s.output_uri.is_empty())
                .count();
            bars[i].set_message(format!(
                "{:<13} {:<9} claims {}/3 commits {committed}/3 reveals {revealed}/3",
                concord_client::Kernel::from_id(job.kernel)
                    .map(|k| k.name())
                    .unwrap_or("?"),
                format!("{:?}", job.state),
                job.slots.len()
            ));
            if job.state.is_terminal() {
                bars[i].finish();
                done[i] = Some((concord_client::job::result_of(job), submitted.elapsed()));
            } else {
                let _ = buyer.crank(&market, &h.address, &job).await;
            }
        }
        worker_bar.set_message(
            workers
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let m = &w.worker.metrics;
                    format!(
                        "#{} c{} r{} paid{} slashed{}",
                        i + 1,
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
    let node_index = |node: &Pubkey| {
        workers
            .iter()
            .position(|w| market.node_address(&w.worker.operator()) == *node)
            .map(|i| i + 1)
    };
    for ((h, _), r) in handles.iter().zip(&done) {
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
        let paid: Vec<usize> = r
            .job
            .slots
            .iter()
            .filter(|s| s.status == SlotStatus::Paid)
            .filter_map(|s| node_index(&s.node))
            .collect();
        let slashed: Vec<usize> = r
            .job
            .slots
            .iter()
            .filter(|s| s.status == SlotStatus::Slashed)
            .filter_map(|s| node_index(&s.node))
            .collect();
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
            "output_verified": verified,
            "latency_secs": (latency.as_secs_f64() * 10.0).round() / 10.0,
            "paid": paid,
            "slashed": slashed,
            "fee": format_amount(fee, d),
            "refund": format_amount(refund, d),
        }));
    }
    for w in &workers {
        let kp_path = &w.cfg.keypair;
        let kp = read_keypair_file(kp_path).map_err(|e| anyhow::anyhow!("{e}"))?;
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
        let _ = w.stop.send(true);
    }
    let (vault, expected) = buyer.check_conservation(&market_key).await?;
    let (buyer_tx, buyer_sigs) = buyer.stats().get();
    let worker_tx: u64 = workers
        .iter()
        .map(|w| w.worker.client_stats().get().0)
        .sum();
    let worker_sigs: u64 = workers
        .iter()
        .map(|w| w.worker.client_stats().get().1)
        .sum();
    let txs = buyer_tx + worker_tx + setup_tx + retired.0;
    let sigs = buyer_sigs + worker_sigs + setup_tx + retired.1;
    let m = buyer.market(&market_key).await?;
    let summary = json!({
        "jobs": rows,
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
        "worker_killed_and_restarted": killed,
        "elapsed_secs": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    out.emit(summary.clone(), || {
        let mut s = String::from("\n job  kernel         state    latency  paid      slashed  fee     refund  output   digest\n");
        for r in &rows {
            let list = |v: &serde_json::Value| v.as_array().map(|a| a.iter().map(|x| format!("#{x}")).collect::<Vec<_>>().join(",")).unwrap_or_default();
            s.push_str(&format!(
                " {:>3}  {:<13}  {:<8} {:>6.1}s  {:<9} {:<8} {:<7} {:<7} {:<8} {}\n",
                r["job"], r["kernel"].as_str().unwrap_or(""), r["state"].as_str().unwrap_or(""), r["latency_secs"].as_f64().unwrap_or(0.0),
                list(&r["paid"]), list(&r["slashed"]), r["fee"].as_str().unwrap_or(""), r["refund"].as_str().unwrap_or(""),
                if r["output_verified"] == true { "verified" } else { "-" },
                r["accepted_digest"].as_str().map(|d| format!("{}…", &d[..16])).unwrap_or_else(|| "-".into()),
            ));
        }
        s.push_str(&format!(
            "\n transactions {txs} ({sigs} signatures, {} lamports in fees) · job rent paid {} lamports, all reclaimed on close\n treasury {} tokens (fees{}) · vault {} tokens\n conservation invariant on chain: vault = stake + earnings + escrow + treasury: {}\n done in {:.1}s\n",
            sigs * 5_000,
            rent_paid,
            format_amount(m.state.treasury, d),
            if args.dishonest > 0 { " + slashed collateral" } else { "" },
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
