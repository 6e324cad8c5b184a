//! `concord-worker`: run a Concord compute node.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use concord::constants::{BACKEND_CPU, BACKEND_CUDA};
use concord_client::amount::{format_amount, parse_amount};
use concord_client::kernels::{KernelParams, Limits};
use concord_client::{ix, ConcordClient};
use concord_worker::config::{Publish, WorkerConfig};
use concord_worker::{kernels, publish, Worker};
use solana_sdk::signature::{read_keypair_file, Signer};

#[derive(Parser)]
#[command(
    name = "concord-worker",
    version,
    about = "Run a Concord GPU compute node"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args)]
struct Common {
    /// The worker's TOML config (see worker/worker.example.toml)
    #[arg(long, short = 'c', default_value = "worker.toml")]
    config: PathBuf,
    /// Override rpc_url
    #[arg(long)]
    rpc_url: Option<String>,
    /// Override keypair
    #[arg(long)]
    keypair: Option<PathBuf>,
    /// Override market
    #[arg(long)]
    market: Option<solana_sdk::pubkey::Pubkey>,
}

impl Common {
    fn load(&self) -> Result<WorkerConfig> {
        let mut cfg = WorkerConfig::load(&self.config)?;
        if let Some(u) = &self.rpc_url {
            cfg.rpc_url = u.clone();
        }
        if let Some(k) = &self.keypair {
            cfg.keypair = k.clone();
        }
        if let Some(m) = self.market {
            cfg.market = m;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve jobs until Ctrl-C / SIGTERM
    Run {
        #[command(flatten)]
        common: Common,
        /// Override metrics_addr (host:port)
        #[arg(long)]
        metrics_addr: Option<String>,
        /// Override max_concurrent_jobs
        #[arg(long)]
        max_concurrent_jobs: Option<usize>,
    },
    /// Register this node in the market with its hardware and a stake (in tokens)
    Register {
        #[command(flatten)]
        common: Common,
        #[arg(long)]
        gpu_model: String,
        #[arg(long, default_value_t = 0)]
        vram_mib: u32,
        /// e.g. 8.9
        #[arg(long, default_value = "0.0")]
        compute_capability: String,
        #[arg(long)]
        stake: String,
    },
    /// Add stake (in tokens)
    Stake {
        #[command(flatten)]
        common: Common,
        amount: String,
    },
    /// Show this node's stake, earnings, slots and record
    Status {
        #[command(flatten)]
        common: Common,
    },
    /// Run every kernel on this machine and report throughput and what it can serve
    Benchmark {
        /// Matrix side for the matmul kernels
        #[arg(long, default_value_t = 256)]
        size: u32,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
                .unwrap_or_else(|_| "info,tarpc=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run {
            common,
            metrics_addr,
            max_concurrent_jobs,
        } => {
            let mut cfg = common.load()?;
            if metrics_addr.is_some() {
                cfg.metrics_addr = metrics_addr;
            }
            if let Some(n) = max_concurrent_jobs {
                cfg.max_concurrent_jobs = n;
            }
            serve(cfg).await
        }
        Command::Register {
            common,
            gpu_model,
            vram_mib,
            compute_capability,
            stake,
        } => {
            let cfg = common.load()?;
            let (client, market, kp) = connect(&cfg).await?;
            let cc = concord_client::spec::parse_compute_capability(&compute_capability)?;
            let backends = cfg.backend_mask()?;
            let raw = parse_amount(&stake, market.state.mint_decimals)?;
            let spec = concord::NodeSpec {
                gpu_model,
                vram_mib,
                compute_capability: cc,
                backends,
            };
            let me = kp.pubkey();
            let token = market.token_account_of(&me);
            let sig = client
                .send(
                    &[ix::register_node(
                        &market,
                        &me,
                        &token,
                        spec,
                        raw,
                        cfg.ask.unwrap_or(0),
                    )],
                    &[&kp],
                )
                .await?;
            println!(
                "registered node {} with stake {} ({sig})",
                market.node_address(&me),
                format_amount(raw, market.state.mint_decimals)
            );
            Ok(())
        }
        Command::Stake { common, amount } => {
            let cfg = common.load()?;
            let (client, market, kp) = connect(&cfg).await?;
            let raw = parse_amount(&amount, market.state.mint_decimals)?;
            let me = kp.pubkey();
            let sig = client
                .send(
                    &[ix::deposit_stake(
                        &market,
                        &me,
                        &market.token_account_of(&me),
                        raw,
                    )],
                    &[&kp],
                )
                .await?;
            println!(
                "staked {} ({sig})",
                format_amount(raw, market.state.mint_decimals)
            );
            Ok(())
        }
        Command::Status { common } => {
            let cfg = common.load()?;
            let (client, market, kp) = connect(&cfg).await?;
            let address = market.node_address(&kp.pubkey());
            if client.account(&address).await?.is_none() {
                bail!(
                    "{} has no node in market {}: run `concord-worker register`",
                    kp.pubkey(),
                    market.address
                );
            }
            let n = client.node(&address).await?;
            let d = market.state.mint_decimals;
            println!("node        {address}\nstatus      {:?} ({})\nstake       {} (locked {})\nearnings    {}\nseats       {}\nask         {} per 10^9 work units\nrecord      drawn {} agreed {} dissented {} missed {}\nspec        {} / {} MiB / cc {}.{} / backends {:#04b}",
                n.status, if n.in_draw() { "in the draw" } else { "out of the draw" }, format_amount(n.stake, d), format_amount(n.locked_collateral, d), format_amount(n.earnings, d), n.active_seats,
                format_amount(n.ask, d), n.assigned, n.agreed, n.dissented, n.missed, n.spec.gpu_model, n.spec.vram_mib, n.spec.compute_capability / 10, n.spec.compute_capability % 10, n.spec.backends);
            Ok(())
        }
        Command::Benchmark { size } => benchmark(size),
    }
}

async fn connect(
    cfg: &WorkerConfig,
) -> Result<(
    ConcordClient,
    concord_client::MarketInfo,
    solana_sdk::signature::Keypair,
)> {
    let kp = read_keypair_file(&cfg.keypair)
        .map_err(|e| anyhow::anyhow!("cannot read keypair {}: {e}", cfg.keypair.display()))?;
    let client = ConcordClient::new(cfg.rpc_url.clone(), kp.insecure_clone());
    let market = client
        .market(&cfg.market)
        .await
        .with_context(|| format!("cannot read market {} at {}", cfg.market, cfg.rpc_url))?;
    Ok((client, market, kp))
}

async fn serve(cfg: WorkerConfig) -> Result<()> {
    let worker = Worker::new(cfg.clone())?;
    if let Publish::Http { dir, bind, .. } = &cfg.publish {
        let l = tokio::net::TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind}"))?;
        tracing::info!(%bind, "serving published outputs and /metrics");
        tokio::spawn(publish::serve(
            l,
            Some(dir.clone()),
            Arc::clone(&worker.metrics),
        ));
    }
    if let Some(addr) = &cfg.metrics_addr {
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        tracing::info!(%addr, "serving /metrics");
        tokio::spawn(publish::serve(l, None, Arc::clone(&worker.metrics)));
    }
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM");
        tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
        let _ = stop.send(true);
    });
    tracing::info!(operator = %worker.operator(), market = %cfg.market, "concord-worker running");
    worker.run(rx).await
}

fn benchmark(size: u32) -> Result<()> {
    let limits = Limits::default();
    let n = size;
    let cases = [
        (
            "matmul_f32",
            KernelParams::MatmulF32 { m: n, n, k: n },
            2.0 * f64::from(n).powi(3),
            "GFLOP/s",
        ),
        (
            "matmul_i8",
            KernelParams::MatmulI8 { m: n, n, k: n },
            2.0 * f64::from(n).powi(3),
            "GOP/s",
        ),
        (
            "mlp_f32",
            KernelParams::MlpF32 {
                batch: n,
                sizes: vec![n, n, n],
            },
            4.0 * f64::from(n).powi(3),
            "GFLOP/s",
        ),
        (
            "mandelbrot",
            KernelParams::Mandelbrot {
                width: 4 * n,
                height: 4 * n,
                cx: -0.5,
                cy: 0.0,
                scale: 3.0 / f64::from(4 * n),
                max_iter: 256,
            },
            f64::from(16 * n * n),
            "Mpixel/s",
        ),
        (
            "sha256_batch",
            KernelParams::Sha256Batch {
                count: 16 * n,
                len: 1024,
            },
            f64::from(16 * n) * 1024.0,
            "MB/s",
        ),
    ];
    println!("CPU backend ({} threads)", rayon::current_num_threads());
    println!("{:<14} {:>10} {:>12} unit", "kernel", "time", "throughput");
    for (name, p, work, unit) in cases {
        let input: Vec<u8> = (0..p.input_len().unwrap_or(0))
            .map(|i| (i % 251) as u8 / 4)
            .collect();
        let t = Instant::now();
        let out = kernels::run_cpu(&p, &input, &limits)?;
        let secs = t.elapsed().as_secs_f64();
        let scale = if unit == "Mpixel/s" || unit == "MB/s" {
            1e6
        } else {
            1e9
        };
        println!(
            "{name:<14} {:>8.1}ms {:>12.2} {unit}",
            secs * 1e3,
            work / secs / scale
        );
        std::hint::black_box(out);
    }
    let mask = BACKEND_CPU;
    println!("\nserves: every kernel on the CPU backend (backends mask {mask:#04b}); CUDA ({BACKEND_CUDA:#04b}) needs a device");
    Ok(())
}
