//! In-process workers on the embedded network: their configuration and HTTP publishing. Shared
//! by `concord demo` and `concord localnet --workers N` (registering their nodes is
//! `Localnet::register_cpu_node`).

use std::path::PathBuf;

use anyhow::Result;
use concord_localnet::Localnet;
use concord_worker::{Fault, Publish, WorkerConfig};
use solana_sdk::pubkey::Pubkey;

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
        max_concurrent_jobs: 8,
        max_input_bytes: 64 << 20,
        poll_interval_ms: 300,
        allow_file_uris: true,
        allow_private_addresses: true,
        fault,
        ..WorkerConfig::new(net.url.clone(), keypair, *market, wdir, publish)
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
