//! `concord`: the command line for Concord buyers, node operators and market admins, and
//! `concord localnet`, a one-command local network. Follows the Solana CLI's conventions:
//! `~/.config/solana/cli/config.yml`, `-u` monikers, `-k` keypair files, `--output json`,
//! and offline signing with `--sign-only` / `--signer` / `--blockhash`.

mod config;
#[cfg(feature = "localnet")]
mod demo;
mod job;
#[cfg(feature = "localnet")]
mod local_nodes;
#[cfg(feature = "localnet")]
mod localnet;
mod market;
mod node;
mod output;
mod tx;
mod view;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{anyhow, Context, Result};
use clap::{Parser, Subcommand};
use concord_client::{ConcordClient, MarketInfo, SendOptions};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::Keypair;

use crate::config::{resolve_url, SignerArg, SignerOptions, SignerSource, SolanaConfig};
use crate::output::{Format, Output};
use crate::tx::Sender;

/// Where `concord localnet` writes its summary by default.
pub const DEFAULT_LOCALNET_DIR: &str = ".concord/localnet";

#[derive(Parser)]
#[command(
    name = "concord",
    version,
    about = "Concord: a decentralized GPU compute market on Solana"
)]
struct Cli {
    /// RPC URL or moniker: localhost, devnet, mainnet-beta, testnet [default: from the Solana CLI config, else localhost]
    #[arg(
        short = 'u',
        long = "url",
        visible_alias = "rpc-url",
        global = true,
        env = "CONCORD_URL"
    )]
    url: Option<String>,
    /// PubSub (websocket) URL, used to follow jobs as they change [default: from the Solana CLI
    /// config's websocket_url, else the RPC URL's with ws:// and its port + 1]
    #[arg(long = "ws", global = true)]
    ws: Option<String>,
    /// The acting wallet (authority, operator or buyer): a keypair file, prompt:// (seed
    /// phrase), stdin, usb://ledger, or a pubkey whose signature comes from --signer
    /// [default: from the Solana CLI config]
    #[arg(short = 'k', long = "keypair", global = true)]
    keypair: Option<String>,
    /// Solana CLI config file [default: ~/.config/solana/cli/config.yml]
    #[arg(short = 'C', long = "config", global = true)]
    config: Option<PathBuf>,
    /// Output format
    #[arg(long, global = true, value_enum, default_value = "display")]
    output: Format,
    /// Market address [default: $CONCORD_MARKET, else the one in .concord/localnet/localnet.json]
    #[arg(long, global = true, env = "CONCORD_MARKET")]
    market: Option<Pubkey>,
    /// Fee payer, in any form -k accepts [default: the -k wallet]
    #[arg(long, global = true)]
    fee_payer: Option<String>,
    /// Sign only: print the transaction and its signatures, send nothing (needs --blockhash)
    #[arg(long, global = true)]
    sign_only: bool,
    /// Use this recent blockhash (offline signing)
    #[arg(long, global = true)]
    blockhash: Option<solana_sdk::hash::Hash>,
    /// A signature made elsewhere, as PUBKEY=SIGNATURE (repeatable)
    #[arg(long = "signer", global = true)]
    signers: Vec<SignerArg>,
    /// Accept seed phrases that are not BIP39 (for `prompt://` signers)
    #[arg(long, global = true)]
    skip_seed_phrase_validation: bool,
    /// Priority fee in micro-lamports per compute unit
    #[arg(long, global = true)]
    priority_fee: Option<u64>,
    /// Compute-unit limit for each transaction
    #[arg(long, global = true)]
    compute_unit_limit: Option<u32>,
    /// Print the compute units each transaction consumes in simulation (on a real cluster)
    #[arg(long, global = true)]
    dump_compute_units: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Markets: create, show, update, pause, unpause, withdraw the treasury
    #[command(subcommand)]
    Market(market::MarketCmd),
    /// Compute nodes: register, update, stake, unbond, withdraw, show, list
    #[command(subcommand)]
    Node(node::NodeCmd),
    /// Jobs: submit, show, list, wait, cancel, close, result
    #[command(subcommand)]
    Job(job::JobCmd),
    /// Print the -k wallet's address (resolving any signer form; contacts no RPC)
    Address,
    /// Serve the buyers' web app: connect a wallet, submit and follow jobs, verify results
    Web(web::WebArgs),
    /// Run a local Solana network with a bootstrapped Concord market (foreground)
    #[cfg(feature = "localnet")]
    Localnet(localnet::LocalnetArgs),
    /// Run the whole market locally: network, workers, a buyer's batch of every kernel, a summary
    #[cfg(feature = "localnet")]
    Demo(demo::DemoArgs),
    /// Not in this build (hidden; says how to get it)
    #[cfg(not(feature = "localnet"))]
    #[command(hide = true)]
    Localnet(NotBuilt),
    #[cfg(not(feature = "localnet"))]
    #[command(hide = true)]
    Demo(NotBuilt),
}

/// The arguments of a subcommand this build leaves out (read and ignored).
#[cfg(not(feature = "localnet"))]
#[derive(clap::Args)]
struct NotBuilt {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<String>,
}

/// Everything a command needs.
pub struct App {
    pub out: Output,
    pub url: String,
    /// The PubSub URL jobs are followed on.
    pub ws: String,
    pub client: ConcordClient,
    pub sender: Sender,
    /// The -k wallet.
    pub identity: SignerSource,
    market: Option<Pubkey>,
}

impl App {
    /// The market to act on, with its state.
    pub async fn market(&self) -> Result<MarketInfo> {
        let address = match self.market {
            Some(m) => m,
            None => localnet_market().ok_or_else(|| {
                anyhow!("no market given: pass --market <ADDRESS> or set CONCORD_MARKET (or run `concord localnet` here first)")
            })?,
        };
        Ok(self.client.market(&address).await?)
    }

    pub fn identity_key(&self) -> Pubkey {
        self.identity.pubkey()
    }
}

fn localnet_market() -> Option<Pubkey> {
    let text =
        std::fs::read_to_string(PathBuf::from(DEFAULT_LOCALNET_DIR).join("localnet.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["market"].as_str()?.parse().ok()
}

impl Cli {
    fn solana_config(&self) -> Result<SolanaConfig> {
        match self.config.clone().or_else(config::default_config_path) {
            Some(p) => SolanaConfig::load(&p),
            None => Ok(SolanaConfig::default()),
        }
    }

    /// The -k value: the flag, else the Solana CLI config's `keypair_path`, else its default.
    fn keypair_arg(&self, solana: &SolanaConfig) -> String {
        self.keypair
            .clone()
            .or(solana.keypair_path.clone())
            .unwrap_or_else(|| "~/.config/solana/id.json".into())
    }

    fn signer_options(&self) -> SignerOptions {
        SignerOptions {
            presigned: self.signers.clone(),
            sign_only: self.sign_only,
            skip_seed_phrase_validation: self.skip_seed_phrase_validation,
        }
    }

    /// The RPC and PubSub URLs: the flags, else the Solana CLI config, else the local network.
    fn endpoints(&self, solana: &SolanaConfig) -> Result<(String, String)> {
        let url = resolve_url(
            self.url
                .as_deref()
                .or(solana.json_rpc_url.as_deref())
                .unwrap_or("localhost"),
        )?;
        let ws = match self.ws.clone().or(solana.websocket_url.clone()) {
            Some(ws) => ws,
            None => concord_client::job::websocket_url(&url)?,
        };
        Ok((url, ws))
    }
}

async fn build_app(cli: &Cli) -> Result<App> {
    let solana = cli.solana_config()?;
    let (url, ws) = cli.endpoints(&solana)?;
    let keypair_arg = cli.keypair_arg(&solana);
    let signers = cli.signer_options();
    let identity = signers.resolve(&keypair_arg, "keypair")?;
    let fee_payer = match &cli.fee_payer {
        Some(f) if *f != keypair_arg => signers.resolve(f, "fee-payer")?,
        _ => identity.share(),
    };
    // The library client pays with the fee payer's keypair when there is one (online sends);
    // otherwise it is used for reads only.
    let payer = match &fee_payer {
        SignerSource::Keypair(k) => k.insecure_clone(),
        _ => Keypair::new(),
    };
    let client = ConcordClient::new(url.clone(), payer).with_options(SendOptions {
        priority_fee: cli.priority_fee,
        compute_unit_limit: cli.compute_unit_limit,
        ..SendOptions::default()
    });
    // Fail fast, with a hint, if the RPC is unreachable.
    tokio::time::timeout(Duration::from_secs(10), client.rpc().get_version())
        .await
        .map_err(|_| anyhow!("RPC at {url} did not answer within 10 s"))?
        .with_context(|| {
            format!("cannot reach the RPC at {url}: is `concord localnet` (or a validator) running? Use -u to pick another cluster")
        })?;
    Ok(App {
        out: Output { format: cli.output },
        ws,
        url,
        sender: Sender {
            client: client.clone(),
            fee_payer,
            sign_only: cli.sign_only,
            blockhash: cli.blockhash,
            dump_cu: cli.dump_compute_units,
        },
        client,
        identity,
        market: cli.market,
    })
}

async fn run(cli: Cli) -> Result<()> {
    #[cfg(feature = "localnet")]
    if let Command::Localnet(args) = &cli.command {
        return localnet::run(args, Output { format: cli.output }).await;
    }
    #[cfg(feature = "localnet")]
    if let Command::Demo(args) = cli.command {
        return demo::run(args, Output { format: cli.output }).await;
    }
    #[cfg(not(feature = "localnet"))]
    if let Command::Localnet(_) | Command::Demo(_) = cli.command {
        anyhow::bail!(
            "this concord was built without the embedded network (the `localnet` feature): `concord localnet` and `concord demo` need the default build, e.g. `cargo install --path client/cli`"
        );
    }
    if let Command::Address = &cli.command {
        let solana = cli.solana_config()?;
        let address = cli
            .signer_options()
            .resolve(&cli.keypair_arg(&solana), "keypair")?
            .pubkey();
        Output { format: cli.output }.emit(
            serde_json::json!({ "address": address.to_string() }),
            || format!("{address}\n"),
        );
        return Ok(());
    }
    if let Command::Web(args) = &cli.command {
        // The page signs with the visitor's wallet: no keypair here, and the RPC may come later.
        let (url, ws) = cli.endpoints(&cli.solana_config()?)?;
        let market = cli.market.or_else(localnet_market);
        let config = web::WebConfig::new(url, ws, market);
        return web::run(args, config, Output { format: cli.output }).await;
    }
    let app = build_app(&cli).await?;
    match cli.command {
        Command::Market(cmd) => market::run(&app, cmd).await,
        Command::Node(cmd) => node::run(&app, cmd).await,
        Command::Job(cmd) => job::run(&app, cmd).await,
        Command::Address | Command::Web(_) | Command::Localnet(_) | Command::Demo(_) => {
            unreachable!("handled above")
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONCORD_LOG")
                .unwrap_or_else(|_| "warn,tarpc=error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints the outcome of a transaction-sending command.
pub fn report(app: &App, sent: tx::Sent, what: &str, extra: serde_json::Value) {
    if let tx::Sent::Confirmed(sig) = sent {
        let mut v = extra;
        v["signature"] = serde_json::Value::String(sig.to_string());
        v["action"] = serde_json::Value::String(what.to_string());
        app.out.emit(v.clone(), || {
            let mut s = format!("{what}: confirmed\n  signature {sig}\n");
            if let Some(obj) = v.as_object() {
                for (k, val) in obj {
                    if k != "signature" && k != "action" {
                        s.push_str(&format!(
                            "  {k} {}\n",
                            val.as_str()
                                .map(String::from)
                                .unwrap_or_else(|| val.to_string())
                        ));
                    }
                }
            }
            s
        });
    }
}
