//! # concord-localnet
//!
//! A one-command local Solana network for Concord. There is no validator binary: the real Solana
//! runtime (solana-program-test's bank, with the Concord program loaded natively and the real SPL
//! Token, Token-2022 and Associated Token programs) runs in-process and is served over Solana
//! JSON-RPC on 127.0.0.1, so `solana-rpc-client` and other clients work against it unchanged.
//! Slots advance about every 400 ms and the clock follows wall time, so deadlines behave as on a
//! real cluster; a blockhash stays valid for 150 blocks. PubSub (websocket) is served on the RPC
//! port + 1, as by solana-test-validator. See [`rpc::METHODS`] and [`rpc::UNSUPPORTED`] for the
//! methods, [`history::HistoryLimits`] and [`pubsub::PubSubLimits`] for the bounds, and
//! [`fixtures::Fixtures`] for loading accounts and programs at start.

#![allow(deprecated)] // solana-program-test 3.x flags its API "unstable" through deprecation

pub mod bootstrap;
pub mod chain;
pub mod fixtures;
pub mod history;
pub mod logs;
pub mod pubsub;
pub mod rpc;
pub mod server;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use concord_client::ConcordClient;
use solana_sdk::signature::Keypair;
use tokio::task::JoinHandle;

pub use bootstrap::BootstrapInfo;

#[derive(Debug, thiserror::Error)]
pub enum LocalnetError {
    #[error("cannot listen on {addr}: {reason} (is another validator or localnet running? pick another port with --rpc-port, or the websocket port with --ws-port)")]
    Bind { addr: SocketAddr, reason: String },
    #[error("keypair file {0}")]
    Keypair(String),
    #[error("bootstrap failed: {0}")]
    Bootstrap(String),
    #[error("I/O error: {0}")]
    Io(String),
}

/// How to start the network.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// Port on 127.0.0.1; 0 picks a free one (with a free port after it for PubSub).
    pub rpc_port: u16,
    /// PubSub port; `None` is the RPC port + 1.
    pub ws_port: Option<u16>,
    /// Where keypairs and `localnet.json` are written.
    pub data_dir: PathBuf,
    pub slot_time: Duration,
    /// Accounts and programs stored at genesis.
    pub fixtures: fixtures::Fixtures,
    pub history: history::HistoryLimits,
    pub pubsub: pubsub::PubSubLimits,
}

impl Default for LocalnetConfig {
    fn default() -> Self {
        LocalnetConfig {
            rpc_port: 8899,
            ws_port: None,
            data_dir: PathBuf::from(".concord/localnet"),
            slot_time: Duration::from_millis(400),
            fixtures: fixtures::Fixtures::default(),
            history: history::HistoryLimits::default(),
            pubsub: pubsub::PubSubLimits::default(),
        }
    }
}

async fn bind(port: u16) -> Result<tokio::net::TcpListener, LocalnetError> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| LocalnetError::Bind {
            addr,
            reason: e.to_string(),
        })
}

fn port_of(l: &tokio::net::TcpListener) -> Result<u16, LocalnetError> {
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| LocalnetError::Io(e.to_string()))
}

/// The RPC and PubSub listeners. With port 0, finds a free port whose successor is free too, so
/// that clients deriving the websocket URL as RPC port + 1 find it.
async fn listeners(
    config: &LocalnetConfig,
) -> Result<(tokio::net::TcpListener, tokio::net::TcpListener), LocalnetError> {
    if config.rpc_port != 0 || config.ws_port.is_some() {
        let rpc = bind(config.rpc_port).await?;
        let ws_port = match config.ws_port {
            Some(p) => p,
            None => port_of(&rpc)?.checked_add(1).ok_or_else(|| {
                LocalnetError::Io(
                    "the RPC port is 65535; choose a websocket port with --ws-port".into(),
                )
            })?,
        };
        return Ok((rpc, bind(ws_port).await?));
    }
    let mut last = None;
    for _ in 0..32 {
        let rpc = bind(0).await?;
        match port_of(&rpc)?.checked_add(1) {
            Some(next) => match bind(next).await {
                Ok(ws) => return Ok((rpc, ws)),
                Err(e) => last = Some(e),
            },
            None => continue,
        }
    }
    Err(last.unwrap_or_else(|| LocalnetError::Io("no free pair of ports".into())))
}

/// A running local network. Dropping it stops the server and the clock.
pub struct Localnet {
    pub addr: SocketAddr,
    pub url: String,
    /// The PubSub (websocket) address and URL.
    pub ws_addr: SocketAddr,
    pub ws_url: String,
    pub info: BootstrapInfo,
    tasks: Vec<JoinHandle<()>>,
}

impl Localnet {
    /// Starts the bank, the clock and the JSON-RPC server, then bootstraps the market.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet, LocalnetError> {
        let (listener, ws_listener) = listeners(&config).await?;
        let addr = listener
            .local_addr()
            .map_err(|e| LocalnetError::Io(e.to_string()))?;
        let ws_addr = ws_listener
            .local_addr()
            .map_err(|e| LocalnetError::Io(e.to_string()))?;
        let url = format!("http://{addr}");
        let ws_url = format!("ws://{ws_addr}");

        let chain = chain::Chain::start(&config.fixtures, config.history, config.slot_time).await;
        let clock = chain.spawn_clock();
        let rpc = Arc::new(rpc::Rpc {
            chain: Arc::clone(&chain),
            rpc_addr: Some(addr),
            pubsub_addr: Some(ws_addr),
        });
        let server = tokio::spawn(server::serve(listener, rpc));
        let pubsub = tokio::spawn(pubsub::serve(
            ws_listener,
            Arc::clone(&chain),
            config.pubsub,
        ));
        let funder = Keypair::new();
        let client = ConcordClient::new(url.clone(), funder.insecure_clone());
        let funded = client
            .rpc()
            .request_airdrop(
                &solana_sdk::signature::Signer::pubkey(&funder),
                1_000_000_000_000,
            )
            .await
            .map_err(|e| LocalnetError::Bootstrap(e.to_string()));
        let info = match funded {
            Ok(_) => bootstrap::bootstrap(&client, &url, &config.data_dir).await,
            Err(e) => Err(e),
        };
        let tasks = vec![clock, server, pubsub];
        match info {
            Ok(info) => Ok(Localnet {
                addr,
                url,
                ws_addr,
                ws_url,
                info,
                tasks,
            }),
            Err(e) => {
                tasks.iter().for_each(JoinHandle::abort);
                Err(e)
            }
        }
    }

    /// The keypair file of operator `index`: the bootstrapped operator's when there is one, else
    /// a new keypair written to `dir/operator-<index + 1>.json` and given 10 SOL and `tokens` (raw
    /// units) of the mint. For demos, benchmarks and `--workers`.
    pub async fn operator_keypair(
        &self,
        index: usize,
        dir: &std::path::Path,
        tokens: u64,
    ) -> Result<PathBuf, LocalnetError> {
        if let Some(p) = self.info.operator_keypairs.get(index) {
            return Ok(p.clone());
        }
        let path = dir.join(format!("operator-{}.json", index + 1));
        let kp = Keypair::new();
        solana_sdk::signature::write_keypair_file(&kp, &path)
            .map_err(|e| LocalnetError::Keypair(format!("{}: {e}", path.display())))?;
        self.fund(
            &solana_sdk::signature::Signer::pubkey(&kp),
            10_000_000_000,
            tokens,
        )
        .await?;
        Ok(path)
    }

    /// Registers `operator`'s node in `market`: the CPU backend, `stake` raw units, ask 0. For
    /// demos, benchmarks and `--workers`.
    pub async fn register_cpu_node(
        &self,
        market: &concord_client::MarketInfo,
        operator: &Keypair,
        stake: u64,
    ) -> Result<(), LocalnetError> {
        use solana_sdk::signature::Signer;
        let client = ConcordClient::new(self.url.clone(), operator.insecure_clone());
        let spec = concord_client::concord::NodeSpec {
            gpu_model: "CPU backend".into(),
            vram_mib: 0,
            compute_capability: 0,
            backends: concord_client::concord::constants::BACKEND_CPU,
        };
        let token = market.token_account_of(&operator.pubkey());
        let register =
            concord_client::ix::register_node(market, &operator.pubkey(), &token, spec, stake, 0);
        client
            .send(&[register], &[operator])
            .await
            .map_err(|e| LocalnetError::Bootstrap(format!("register_node: {e}")))?;
        Ok(())
    }

    /// Gives `wallet` `lamports` of SOL and `tokens` (raw units) of the market's mint in its
    /// associated token account (created if needed). For demos and tests.
    pub async fn fund(
        &self,
        wallet: &solana_sdk::pubkey::Pubkey,
        lamports: u64,
        tokens: u64,
    ) -> Result<(), LocalnetError> {
        let err = |e: concord_client::ClientError| LocalnetError::Bootstrap(e.to_string());
        let mint_authority = bootstrap::load_or_create_keypair(&self.info.mint_authority_keypair)?;
        let client = ConcordClient::new(self.url.clone(), mint_authority.insecure_clone());
        client
            .rpc()
            .request_airdrop(
                &solana_sdk::signature::Signer::pubkey(&mint_authority),
                1_000_000_000,
            )
            .await
            .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?;
        if lamports > 0 {
            client
                .rpc()
                .request_airdrop(wallet, lamports)
                .await
                .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?;
        }
        let mint = self.info.mint();
        let program = spl_token_interface::ID;
        let ata = concord_client::ix::associated_token_address(wallet, &mint, &program);
        let payer = solana_sdk::signature::Signer::pubkey(&mint_authority);
        let mut ixs = vec![concord_client::ix::create_token_account_idempotent(
            &payer, wallet, &mint, &program,
        )];
        if tokens > 0 {
            ixs.push(
                spl_token_interface::instruction::mint_to(
                    &program,
                    &mint,
                    &ata,
                    &payer,
                    &[],
                    tokens,
                )
                .map_err(|e| LocalnetError::Bootstrap(e.to_string()))?,
            );
        }
        client.send(&ixs, &[]).await.map_err(err)?;
        Ok(())
    }

    /// A human summary: RPC URL, program id, market, mint and keypair paths.
    pub fn banner(&self) -> String {
        let i = &self.info;
        let mut s = format!(
            "Concord localnet (embedded Solana runtime)\n\
             RPC URL        {}\n\
             WebSocket URL  {}\n\
             program id     {}\n\
             market         {} (id {})\n\
             mint           {} ({} decimals, SPL Token)\n\
             authority      {}\n\
             buyer          {}\n",
            i.rpc_url,
            self.ws_url,
            i.program_id,
            i.market,
            i.market_id,
            i.mint,
            i.decimals,
            i.authority_keypair.display(),
            i.buyer_keypair.display(),
        );
        for (n, p) in i.operator_keypairs.iter().enumerate() {
            s.push_str(&format!("operator {}     {}\n", n + 1, p.display()));
        }
        s
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
