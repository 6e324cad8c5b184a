//! `concord localnet`: the embedded network in the foreground (the `localnet` feature).

use std::path::PathBuf;

use anyhow::Result;
use solana_sdk::pubkey::Pubkey;

use crate::output::{self, Output};
use crate::DEFAULT_LOCALNET_DIR;

#[derive(clap::Args)]
pub struct LocalnetArgs {
    /// JSON-RPC port on 127.0.0.1
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,
    /// Where keypairs and localnet.json are written
    #[arg(long, default_value = DEFAULT_LOCALNET_DIR)]
    data_dir: PathBuf,
    /// PubSub (websocket) port on 127.0.0.1 [default: the RPC port + 1]
    #[arg(long)]
    ws_port: Option<u16>,
    /// Load an account from a JSON file as `solana account --output json` writes it; ADDRESS `-`
    /// takes the address from the file (repeatable)
    #[arg(long = "account", num_args = 2, value_names = ["ADDRESS", "FILE"], action = clap::ArgAction::Append)]
    accounts: Vec<String>,
    /// Load every *.json account file in DIR (repeatable)
    #[arg(long = "account-dir", value_name = "DIR")]
    account_dirs: Vec<PathBuf>,
    /// Load an SBF program (.so) at ADDRESS, owned by the BPF loader (repeatable)
    #[arg(long = "bpf-program", num_args = 2, value_names = ["ADDRESS", "FILE"], action = clap::ArgAction::Append)]
    bpf_programs: Vec<String>,
    /// Load an upgradeable SBF program with its upgrade AUTHORITY (`none`: immutable) (repeatable)
    #[arg(long = "upgradeable-program", num_args = 3, value_names = ["ADDRESS", "FILE", "AUTHORITY"], action = clap::ArgAction::Append)]
    upgradeable_programs: Vec<String>,
    /// Transactions kept in history (getTransaction, getSignaturesForAddress)
    #[arg(long, default_value_t = concord_localnet::history::HistoryLimits::default().transactions)]
    history_transactions: usize,
    /// Blocks kept in history (getBlock, getBlocks, getBlockTime)
    #[arg(long, default_value_t = concord_localnet::history::HistoryLimits::default().blocks)]
    history_blocks: usize,
    /// Port of the buyers' web app on 127.0.0.1 [default: the RPC port + 2]
    #[arg(long, conflicts_with = "no_web")]
    web_port: Option<u16>,
    /// Do not serve the web app
    #[arg(long)]
    no_web: bool,
    /// Register N CPU nodes (the bootstrapped operators first) and run their workers in this
    /// process, publishing outputs over HTTP: a market that computes jobs, for the web app and
    /// the CLI (at most 16)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=16))]
    workers: u8,
}

impl LocalnetArgs {
    /// The fixtures the flags name, loaded and checked before anything starts.
    fn fixtures(&self) -> Result<concord_localnet::fixtures::Fixtures> {
        let address = |s: &str, flag: &str| -> Result<Pubkey> {
            s.parse()
                .map_err(|_| anyhow::anyhow!("{flag}: {s:?} is not a base-58 address"))
        };
        let mut f = concord_localnet::fixtures::Fixtures::default();
        for pair in self.accounts.chunks(2) {
            let at = match pair[0].as_str() {
                "-" => None,
                a => Some(address(a, "--account")?),
            };
            f.add_account_file(at, std::path::Path::new(&pair[1]))?;
        }
        for dir in &self.account_dirs {
            f.add_account_dir(dir)?;
        }
        for pair in self.bpf_programs.chunks(2) {
            f.add_bpf_program(
                address(&pair[0], "--bpf-program")?,
                std::path::Path::new(&pair[1]),
            )?;
        }
        for triple in self.upgradeable_programs.chunks(3) {
            let authority = match triple[2].as_str() {
                "none" => None,
                a => Some(address(a, "--upgradeable-program AUTHORITY")?),
            };
            f.add_upgradeable_program(
                address(&triple[0], "--upgradeable-program")?,
                std::path::Path::new(&triple[1]),
                authority,
            )?;
        }
        Ok(f)
    }
}

pub async fn run(args: &LocalnetArgs, out: Output) -> Result<()> {
    let fixtures = args.fixtures()?;
    let net = concord_localnet::Localnet::start(concord_localnet::LocalnetConfig {
        rpc_port: args.rpc_port,
        ws_port: args.ws_port,
        data_dir: args.data_dir.clone(),
        fixtures,
        history: concord_localnet::history::HistoryLimits {
            transactions: args.history_transactions.max(1),
            blocks: args.history_blocks.max(1),
        },
        ..Default::default()
    })
    .await?;
    let web_url = match args.no_web {
        true => None,
        false => {
            // RPC port 0 (any free port) gives the app any free port too.
            let port = match (args.web_port, args.rpc_port) {
                (Some(p), _) => p,
                (None, 0) => 0,
                (None, rpc) => rpc.saturating_add(2),
            };
            let at = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let listener = crate::web::bind(at, "--web-port (or --no-web)").await?;
            let url = format!("http://{}", listener.local_addr()?);
            let config = crate::web::WebConfig::new(
                net.url.clone(),
                net.ws_url.clone(),
                Some(net.info.market()),
            );
            tokio::spawn(crate::web::serve(listener, config));
            Some(url)
        }
    };
    let workers = start_workers(&net, &args.data_dir, args.workers.into()).await?;
    let mut summary = serde_json::to_value(&net.info)?;
    summary["web_url"] = serde_json::json!(web_url);
    summary["workers"] = serde_json::json!(workers.len());
    out.emit(summary, || {
        let web = match &web_url {
            Some(u) => format!("web app        {u}\n"),
            None => String::new(),
        };
        let nodes = match workers.len() {
            0 => String::new(),
            n => format!("workers        {n} CPU nodes in this process (in the draw from the next pool epoch)\n"),
        };
        format!(
            "{}{web}{nodes}\nIn another terminal, for example:\n  concord -u {} -k {} job submit --kernel matmul_f32 --params m=64,n=64,k=64 --input-random 7 -n 3 -q 2 --reward 1 --wait\n\nCtrl-C to stop.\n",
            net.banner(),
            net.url,
            net.info.buyer_keypair.display()
        )
    });
    shutdown_signal().await;
    if !out.json() {
        output::print("\nshutting down\n");
    }
    for w in workers {
        w.stop();
        let _ = w.join().await;
    }
    drop(net);
    Ok(())
}

/// `--workers N`: registers N CPU nodes (the bootstrapped operators, then new funded ones) and
/// starts their workers.
async fn start_workers(
    net: &concord_localnet::Localnet,
    dir: &std::path::Path,
    count: usize,
) -> Result<Vec<concord_worker::WorkerHandle>> {
    use crate::local_nodes::{http_publish, worker_config};
    use solana_sdk::signature::{read_keypair_file, Keypair};
    let mut handles = vec![];
    if count == 0 {
        return Ok(handles);
    }
    let client = concord_client::ConcordClient::new(net.url.clone(), Keypair::new());
    let market = client.market(&net.info.market()).await?;
    let unit = 10u64.pow(u32::from(market.state.mint_decimals));
    for i in 0..count {
        let path = net.operator_keypair(i, dir, 1_000 * unit).await?;
        let kp =
            read_keypair_file(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        net.register_cpu_node(&market, &kp, 200 * unit).await?;
        let wdir = dir.join(format!("worker-{}", i + 1));
        let publish = http_publish(&wdir)?;
        let cfg = worker_config(net, path, &market.address, wdir, publish, None);
        handles.push(concord_worker::Worker::spawn(cfg)?);
    }
    Ok(handles)
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
