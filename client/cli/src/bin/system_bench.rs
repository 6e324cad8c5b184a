//! System benchmarks on the embedded network (numbers for BENCHMARKS.md):
//! 1. protocol cost per job for N = 1, 3, 5, 7 (transactions, signatures, fees, account bytes and
//!    rent, rent reclaimed) against the protocol's 2N + 1 transactions (create, N commits of which
//!    the first draws, N reveals of which the last settles), plus the market's one-off accounts;
//! 2. throughput and submit-to-settled latency with W = 1, 3, 8 workers on a queue of small jobs,
//!    with RPC requests per job per worker;
//! 3. the workers' CPU use while there is no work.
//!
//! `cargo run --release -p concord-cli --bin concord-system-bench [-- --jobs 200]`

use concord_client::concord;
use std::time::{Duration, Instant};

use anyhow::Result;
use concord::state::{JobState, SeatStatus};
use concord::Requirements;
use concord_client::kernels::KernelParams;
use concord_client::{data, ix, ConcordClient, JobSpec};
use concord_localnet::{Localnet, LocalnetConfig};
use concord_worker::metrics::Metrics;
use concord_worker::{Publish, Worker, WorkerConfig};
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct.
    unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        (u.ru_utime.tv_sec + u.ru_stime.tv_sec) as f64
            + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) as f64 / 1e6
    }
}

struct Setup {
    net: Localnet,
    buyer: ConcordClient,
    buyer_kp: Keypair,
    operators: Vec<std::path::PathBuf>,
    dir: std::path::PathBuf,
}

async fn setup(dir: &std::path::Path, operators: usize) -> Result<Setup> {
    let net = Localnet::start(LocalnetConfig {
        rpc_port: 0,
        data_dir: dir.join("localnet"),
        slot_time: Duration::from_millis(400),
        ..Default::default()
    })
    .await?;
    let buyer_kp =
        read_keypair_file(&net.info.buyer_keypair).map_err(|e| anyhow::anyhow!("{e}"))?;
    let buyer = ConcordClient::new(net.url.clone(), buyer_kp.insecure_clone());
    let market = buyer.market(&net.info.market()).await?;
    let unit = 10u64.pow(u32::from(market.state.mint_decimals));
    let mut paths = vec![];
    for i in 0..operators {
        paths.push(net.operator_keypair(i, dir, 10_000 * unit).await?);
    }
    for p in &paths {
        let kp = read_keypair_file(p).map_err(|e| anyhow::anyhow!("{e}"))?;
        // Enough stake for many concurrent seats.
        net.register_cpu_node(&market, &kp, 5_000 * unit).await?;
    }
    // The nodes are drawn by jobs created from the pool's next epoch on.
    buyer.wait_for_next_pool_epoch(&market).await?;
    Ok(Setup {
        net,
        buyer,
        buyer_kp,
        operators: paths,
        dir: dir.to_path_buf(),
    })
}

fn spec(n: u8, q: u8) -> JobSpec {
    let input = vec![7u8; 32];
    JobSpec {
        params: KernelParams::Sha256Batch { count: 1, len: 32 },
        input_uri: data::inline_uri(&input),
        input_digest: data::sha256(&input),
        requirements: Requirements {
            min_vram_mib: 0,
            min_compute_capability: 0,
            backends: concord::constants::BACKEND_CPU,
            min_agreed: 0,
            max_fault_bps: 10_000,
        },
        replication: n,
        quorum: q,
        reward_per_worker: 1_000,
    }
}

/// Part 1: one job of replication N in a pool of N nodes, played by hand with the protocol's
/// transactions: create, N commits (the first draws), N reveals (the last settles); then close.
async fn protocol_cost(n: u8) -> Result<String> {
    let dir = tempdir("cost");
    let s = setup(&dir, n as usize).await?;
    let market = s.buyer.market(&s.net.info.market()).await?;
    let rent_of = |len: usize| s.buyer.rpc().get_minimum_balance_for_rent_exemption(len);
    let q = n / 2 + 1;
    let h = s
        .buyer
        .submit_job(&s.net.info.market(), &s.buyer_kp, &spec(n, q))
        .await?;
    let job_bytes = concord::state::Job::size(n);
    let rent = rent_of(job_bytes).await?;
    let mut txs = 1u64; // create_job
    let mut sigs = 1u64;
    let out = vec![1u8; 32];
    let digest = data::sha256(&out);
    // The draw needs a slot after the job's.
    let created = h.fetch().await?.created_slot;
    while s.buyer.slot().await? <= created {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ops = vec![];
    for p in &s.operators {
        let kp = read_keypair_file(p).map_err(|e| anyhow::anyhow!("{e}"))?;
        let c = ConcordClient::new(s.net.url.clone(), kp.insecure_clone());
        let job = h.fetch().await?;
        let seats = match job.state {
            JobState::Open => s.buyer.preview_draw(&market, &h.address, &job).await?.seats,
            _ => vec![],
        };
        let node = market.node_address(&kp.pubkey());
        let salt = [n; 32];
        c.send(
            &[ix::commit_result(
                &market,
                &h.address,
                &kp.pubkey(),
                ix::commitment(&h.address, &node, &digest, &salt),
                &seats,
            )],
            &[&kp],
        )
        .await?;
        ops.push((c, kp, salt));
        txs += 1;
        sigs += 1;
    }
    for (c, kp, salt) in &ops {
        let job = h.fetch().await?;
        c.send(
            &[ix::reveal_result(
                &market,
                &h.address,
                &job,
                &kp.pubkey(),
                digest,
                *salt,
                "inline:AQ==".into(),
            )],
            &[kp],
        )
        .await?;
        txs += 1;
        sigs += 1;
    }
    let job = h.fetch().await?;
    anyhow::ensure!(job.state == JobState::Settled, "the last reveal settles");
    let protocol = txs;
    let buyer_ata = market.token_account_of(&s.buyer_kp.pubkey());
    s.buyer
        .send(
            &[ix::close_job(
                &market,
                &h.address,
                &s.buyer_kp.pubkey(),
                &buyer_ata,
            )],
            &[&s.buyer_kp],
        )
        .await?;
    txs += 1;
    sigs += 1;
    let min = 2 * u64::from(n) + 1;
    Ok(format!(
        "| {n} | {q} | {protocol} | {min} | {txs} | {sigs} | {} | {job_bytes} | {rent} | {rent} |",
        sigs * 5_000
    ))
}

fn tempdir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "concord-bench-{tag}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn worker_config(s: &Setup, i: usize) -> WorkerConfig {
    let d = s.dir.join(format!("worker-{i}"));
    WorkerConfig {
        max_concurrent_jobs: 16,
        max_input_bytes: 1 << 20,
        poll_interval_ms: 250,
        ..WorkerConfig::new(
            s.net.url.clone(),
            s.operators[i].clone(),
            s.net.info.market(),
            d.clone(),
            Publish::File {
                dir: d.join("public"),
            },
        )
    }
}

/// Part 2 and 3: W workers serve a queue of `jobs` jobs of replication `n`.
async fn throughput(w: usize, n: u8, jobs: usize) -> Result<String> {
    let dir = tempdir("tput");
    let s = setup(&dir, w).await?;
    // Idle: the network alone, then with the workers polling.
    let t0 = (Instant::now(), cpu_seconds());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let net_idle = (cpu_seconds() - t0.1) / t0.0.elapsed().as_secs_f64();
    let mut workers = vec![];
    for i in 0..w {
        workers.push(Worker::spawn(worker_config(&s, i))?);
    }
    let t1 = (Instant::now(), cpu_seconds());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle =
        ((cpu_seconds() - t1.1) / t1.0.elapsed().as_secs_f64() - net_idle).max(0.0) / w as f64;
    let rpc_before: u64 = workers
        .iter()
        .map(|h| Metrics::get(&h.worker().metrics.rpc_requests))
        .sum();

    let q = n / 2 + 1;
    let started = Instant::now();
    let mut handles = vec![];
    for _ in 0..jobs {
        handles.push((
            s.buyer
                .submit_job(&s.net.info.market(), &s.buyer_kp, &spec(n, q))
                .await?,
            Instant::now(),
        ));
    }
    let mut latencies = vec![];
    let mut pending: Vec<usize> = (0..handles.len()).collect();
    let market = s.buyer.market(&s.net.info.market()).await?;
    while !pending.is_empty() {
        let addrs: Vec<_> = pending.iter().map(|&i| handles[i].0.address).collect();
        let accounts = s
            .buyer
            .accounts_batch::<concord::state::Job>(&addrs, "job")
            .await?;
        let mut still = vec![];
        for (&i, acc) in pending.iter().zip(accounts) {
            match acc {
                Some(j) if j.state.is_terminal() => {
                    anyhow::ensure!(
                        j.state == JobState::Settled
                            && j.seats.iter().all(|s| s.status == SeatStatus::Paid),
                        "job not settled cleanly"
                    );
                    latencies.push(handles[i].1.elapsed().as_secs_f64());
                }
                Some(j) => {
                    let _ = s.buyer.crank(&market, &handles[i].0.address, &j).await;
                    still.push(i);
                }
                None => still.push(i),
            }
        }
        pending = still;
        if started.elapsed() > Duration::from_secs(900) {
            anyhow::bail!("queue did not drain in 15 minutes");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rpc_after: u64 = workers
        .iter()
        .map(|h| Metrics::get(&h.worker().metrics.rpc_requests))
        .sum();
    for worker in workers {
        worker.shutdown().await?;
    }
    latencies.sort_by(f64::total_cmp);
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    let rpc_per_job_worker = (rpc_after - rpc_before) as f64 / jobs as f64 / w as f64;
    Ok(format!(
        "| {w} | {n} | {jobs} | {:.1} | {:.2} | {:.2} | {:.2} | {rpc_per_job_worker:.1} | {:.1} % |",
        elapsed,
        jobs as f64 / elapsed,
        pct(0.5),
        pct(0.95),
        idle * 100.0
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let jobs: usize = std::env::args()
        .skip_while(|a| a != "--jobs")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!(
        "Concord system benchmarks ({profile} build, {} CPUs)\n",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    println!("Protocol cost per job (all nodes agree; base fee 5 000 lamports per signature):\n");
    println!("| N | Q | protocol transactions | 2N+1 | with close_job | signatures | fees (lamports) | job account bytes | rent paid (lamports) | rent reclaimed on close |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for n in [1u8, 3, 5, 7] {
        println!("{}", protocol_cost(n).await?);
    }
    let rent = |len: usize| solana_sdk::rent::Rent::default().minimum_balance(len);
    println!(
        "\nPer market, once: market {} bytes ({} lamports rent), pool {} bytes ({} lamports rent, {} node entries), vault {} bytes. Per node: {} bytes ({} lamports rent).",
        concord::state::Market::SIZE,
        rent(concord::state::Market::SIZE),
        concord::state::Pool::SIZE,
        rent(concord::state::Pool::SIZE),
        concord::state::POOL_CAPACITY,
        165,
        concord::state::Node::SIZE,
        rent(concord::state::Node::SIZE),
    );
    println!("\nThroughput on the embedded network ({jobs} sha256_batch jobs per run, workers poll every 250 ms, slots every 400 ms):\n");
    println!("| workers W | N | jobs | seconds | jobs settled / s | p50 latency (s) | p95 latency (s) | RPC requests per job per worker | idle CPU per worker |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (w, n) in [(1usize, 1u8), (3, 3), (8, 3)] {
        println!("{}", throughput(w, n, jobs).await?);
    }
    Ok(())
}
