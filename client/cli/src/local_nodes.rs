//! Nodes on the embedded network: registering an operator's CPU node and the configuration of an
//! in-process worker. Shared by `concord demo` and `concord localnet --workers N`.

use std::path::PathBuf;

use anyhow::Result;
use concord_client::concord;
use concord_client::{ix, ConcordClient, MarketInfo};
use concord_localnet::Localnet;
use concord_worker::{Fault, Publish, WorkerConfig};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{Keypair, Signer};

/// Registers `operator`'s node in `market`: the CPU backend, `stake` base units, ask 0.
pub async fn register_cpu_node(
    net: &Localnet,
    market: &MarketInfo,
    operator: &Keypair,
    stake: u64,
) -> Result<()> {
    let client = ConcordClient::new(net.url.clone(), operator.insecure_clone());
    let spec = concord::NodeSpec {
        gpu_model: "CPU backend".into(),
        vram_mib: 0,
        compute_capability: 0,
        backends: concord::constants::BACKEND_CPU,
    };
    let token = market.token_account_of(&operator.pubkey());
    client
        .send(
            &[ix::register_node(
                market,
                &operator.pubkey(),
                &token,
                spec,
                stake,
                0,
            )],
            &[operator],
        )
        .await?;
    Ok(())
}

/// An in-process worker for `keypair`'s node in `market`, with its journal and outputs under
/// `wdir`. Inputs may be `file://` and on private addresses: the network is this machine.
pub fn worker_config(
    net: &Localnet,
    keypair: PathBuf,
    market: &Pubkey,
    wdir: PathBuf,
    publish: Publish,
    fault: Option<Fault>,
) -> WorkerConfig {
    WorkerConfig {
        rpc_url: net.url.clone(),
        keypair,
        market: *market,
        backends: vec![concord_client::spec::Backend::Cpu],
        max_concurrent_jobs: 8,
        max_input_bytes: 64 << 20,
        publish,
        data_dir: wdir,
        poll_interval_ms: 300,
        priority_fee: None,
        metrics_addr: None,
        withdraw_threshold: None,
        withdraw_to: None,
        ask: None,
        available: None,
        allow_file_uris: true,
        allow_private_addresses: true,
        fault,
    }
}

/// Publishing over HTTP on a free port of 127.0.0.1 (the worker binds it when it starts), so
/// that a browser can download the outputs.
pub fn http_publish(wdir: &std::path::Path) -> Result<Publish> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    Ok(Publish::Http {
        dir: wdir.join("public"),
        bind: format!("127.0.0.1:{port}"),
        public_base_url: format!("http://127.0.0.1:{port}"),
    })
}
