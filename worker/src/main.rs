//! `concord-worker`: run a Concord compute node.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use concord::constants::{BACKEND_CPU, BACKEND_CUDA};
use concord_client::kernels::{KernelParams, Limits};
use concord_worker::config::WorkerConfig;
use concord_worker::{kernels, Worker};

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

/// The arguments of a subcommand that moved to the `concord` CLI (read and ignored).
#[derive(clap::Args)]
struct Moved {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

/// What `concord-worker register|stake|status` became: one CLI for every operator transaction
/// (typed output, `--output json`, every signer form the Solana CLI accepts).
fn moved(old: &str, new: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "`concord-worker {old}` moved to the `concord` CLI: run `concord -u <RPC_URL> -k <OPERATOR_KEYPAIR> --market <MARKET> node {new}` (see docs/cli.md)"
    )
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
    /// Moved: operator transactions are `concord node register|stake|show` (hidden; says so)
    #[command(hide = true)]
    Register(Moved),
    #[command(hide = true)]
    Stake(Moved),
    #[command(hide = true)]
    Status(Moved),
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
        Command::Register(_) => Err(moved(
            "register",
            "register --gpu-model <MODEL> --vram-mib <MIB> --compute-capability <X.Y> --stake <TOKENS>",
        )),
        Command::Stake(_) => Err(moved("stake", "stake <TOKENS>")),
        Command::Status(_) => Err(moved("status", "show")),
        Command::Benchmark { size } => benchmark(size),
    }
}

async fn serve(cfg: WorkerConfig) -> Result<()> {
    let running = Worker::spawn(cfg.clone())?;
    let worker = running.worker();
    tracing::info!(operator = %worker.operator(), market = %cfg.market, "concord-worker running");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    running
        .join_until(async move {
            tokio::select! { _ = tokio::signal::ctrl_c() => {}, _ = term.recv() => {} }
        })
        .await
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
