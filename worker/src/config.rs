//! `worker.toml`, with command-line overrides.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use concord_client::spec::Backend;
use serde::Deserialize;
use solana_sdk::pubkey::Pubkey;

/// How outputs are published at reveal time.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum Publish {
    /// Copy into `dir` and reveal a `file://` URI (local setups).
    File { dir: PathBuf },
    /// Copy into `dir`, served by the worker's own HTTP endpoint on `bind`, and reveal
    /// `<public_base_url>/<file>`.
    Http {
        dir: PathBuf,
        bind: String,
        public_base_url: String,
    },
}

/// Test-only fault injection: makes this worker dishonest on purpose.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// Flip one bit of every output before committing (for tests and the demo's `--dishonest`
    /// and `--sybil`).
    FlipOutputByteForTesting,
    /// Wait 4 s after journaling a seat before computing it (for the demo's `--kill-worker`,
    /// which needs time to kill a worker that holds a seat before it commits).
    DelayBeforeComputeForTesting,
}

fn default_backends() -> Vec<Backend> {
    vec![Backend::Cpu]
}

/// A pubkey written as base58 text; a bad one is refused naming `field` and what it is for.
fn pubkey_field<E: serde::de::Error>(field: &str, s: &str, hint: &str) -> Result<Pubkey, E> {
    s.parse().map_err(|_| {
        E::custom(format!(
            "{field} '{s}' is not a pubkey (base58, 32 bytes){hint}"
        ))
    })
}

fn market_from_str<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Pubkey, D::Error> {
    pubkey_field("market", &String::deserialize(d)?, "")
}

fn withdraw_to_from_str<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Pubkey>, D::Error> {
    let hint = ": give the wallet that should receive the earnings";
    pubkey_field("withdraw_to", &String::deserialize(d)?, hint).map(Some)
}

fn default_concurrency() -> usize {
    2
}
fn default_max_input() -> u64 {
    256 << 20
}
fn default_poll_ms() -> u64 {
    1_000
}

/// Everything the job loop needs.
#[derive(Clone, Debug, Deserialize)]
pub struct WorkerConfig {
    pub rpc_url: String,
    /// Solana CLI keypair file of the operator.
    pub keypair: PathBuf,
    #[serde(deserialize_with = "market_from_str")]
    pub market: Pubkey,
    /// Backends offered: "cpu" and/or "cuda" (parsed like the CLI's `--backends`).
    #[serde(default = "default_backends")]
    pub backends: Vec<Backend>,
    #[serde(default = "default_concurrency")]
    pub max_concurrent_jobs: usize,
    /// Largest input downloaded, in bytes.
    #[serde(default = "default_max_input")]
    pub max_input_bytes: u64,
    /// Journal and private outputs live here.
    pub data_dir: PathBuf,
    pub publish: Publish,
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    pub priority_fee: Option<u64>,
    /// `host:port` for the Prometheus endpoint.
    pub metrics_addr: Option<String>,
    /// Withdraw earnings whenever they reach this many raw token units.
    pub withdraw_threshold: Option<u64>,
    /// The wallet that receives withdrawn earnings (its associated token account for the
    /// market's mint, created if missing): a cold or hardware wallet, so that the worker's hot
    /// key never holds more than the earnings since the last withdrawal. Default: the operator.
    #[serde(default, deserialize_with = "withdraw_to_from_str")]
    pub withdraw_to: Option<Pubkey>,
    /// The lowest price this node accepts, in raw token units per 10⁹ work units; the worker
    /// sets it on chain at start when it differs (`None` leaves the on-chain ask alone).
    pub ask: Option<u64>,
    /// Whether the node is in the draw; set on chain at start when it differs (`None` leaves it).
    pub available: Option<bool>,
    /// Read `file://` inputs (local development only; off by default).
    #[serde(default)]
    pub allow_file_uris: bool,
    /// Contact loopback, private and link-local addresses for inputs (off by default: a buyer's
    /// URI must not reach the operator's internal network or a cloud metadata service).
    #[serde(default)]
    pub allow_private_addresses: bool,
    #[serde(default)]
    pub fault: Option<Fault>,
}

impl WorkerConfig {
    /// A configuration with a config file's defaults for everything but the five fields a file
    /// must give: strict fetching, the CPU backend, no metrics, no withdrawals, the on-chain ask
    /// and availability left alone. Embedded workers (the demo, `localnet --workers`, tests)
    /// start from this and set what they need.
    pub fn new(
        rpc_url: String,
        keypair: PathBuf,
        market: Pubkey,
        data_dir: PathBuf,
        publish: Publish,
    ) -> WorkerConfig {
        WorkerConfig {
            rpc_url,
            keypair,
            market,
            backends: default_backends(),
            max_concurrent_jobs: default_concurrency(),
            max_input_bytes: default_max_input(),
            data_dir,
            publish,
            poll_interval_ms: default_poll_ms(),
            priority_fee: None,
            metrics_addr: None,
            withdraw_threshold: None,
            withdraw_to: None,
            ask: None,
            available: None,
            allow_file_uris: false,
            allow_private_addresses: false,
            fault: None,
        }
    }

    pub fn load(path: &std::path::Path) -> Result<WorkerConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let cfg: WorkerConfig =
            toml::from_str(&text).with_context(|| format!("invalid config {}", path.display()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        self.backend_mask()?;
        if self.max_concurrent_jobs == 0 {
            bail!("max_concurrent_jobs must be at least 1");
        }
        Ok(())
    }

    /// What inputs the worker will fetch.
    pub fn fetch_policy(&self) -> concord_client::data::FetchPolicy {
        concord_client::data::FetchPolicy {
            allow_file: self.allow_file_uris,
            allow_private: self.allow_private_addresses,
            ..concord_client::data::FetchPolicy::strict(self.max_input_bytes)
        }
    }

    /// The program's bitmask of the offered backends (at least one).
    pub fn backend_mask(&self) -> Result<u8> {
        if self.backends.is_empty() {
            bail!("backends is empty: offer at least \"cpu\"");
        }
        Ok(Backend::mask(&self.backends))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_has_a_config_files_defaults() {
        let file: WorkerConfig = toml::from_str(
            "rpc_url = \"r\"\nkeypair = \"k\"\nmarket = \"11111111111111111111111111111111\"\ndata_dir = \"d\"\n[publish]\nmode = \"file\"\ndir = \"p\"\n",
        )
        .unwrap();
        let new = WorkerConfig::new(
            "r".into(),
            "k".into(),
            Pubkey::default(),
            "d".into(),
            Publish::File { dir: "p".into() },
        );
        assert_eq!(format!("{new:?}"), format!("{file:?}"));
    }

    #[test]
    fn parses_a_config_file() {
        let cfg: WorkerConfig = toml::from_str(
            r#"
            rpc_url = "http://127.0.0.1:8899"
            keypair = "/keys/op.json"
            market = "11111111111111111111111111111111"
            data_dir = "/var/lib/concord"
            metrics_addr = "127.0.0.1:9100"
            [publish]
            mode = "http"
            dir = "/var/lib/concord/public"
            bind = "0.0.0.0:8080"
            public_base_url = "https://node.example/outputs"
            "#,
        )
        .unwrap();
        cfg.validate().unwrap();
        assert_eq!(cfg.backends, vec![Backend::Cpu]);
        assert_eq!(cfg.max_concurrent_jobs, 2);
        let policy = cfg.fetch_policy();
        assert!(
            !policy.allow_file && !policy.allow_private,
            "strict by default"
        );
        assert_eq!((cfg.ask, cfg.available), (None, None));
        assert!(matches!(cfg.publish, Publish::Http { .. }));
        // Bad values are refused while reading, naming the field and what to write instead.
        let file = |market: &str, backends: &str| {
            format!(
                "rpc_url = \"x\"\nkeypair = \"k\"\nmarket = \"{market}\"\ndata_dir = \"d\"\nbackends = {backends}\n[publish]\nmode = \"file\"\ndir = \"p\"\n"
            )
        };
        let key = "11111111111111111111111111111111";
        let err = toml::from_str::<WorkerConfig>(&file("not-a-key", r#"["cpu"]"#)).unwrap_err();
        assert!(
            err.to_string()
                .contains("market 'not-a-key' is not a pubkey"),
            "{err}"
        );
        let err = toml::from_str::<WorkerConfig>(&file(key, r#"["tpu"]"#)).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown backend 'tpu': use cuda, cpu"),
            "{err}"
        );
        let empty: WorkerConfig = toml::from_str(&file(key, "[]")).unwrap();
        assert!(empty
            .validate()
            .unwrap_err()
            .to_string()
            .contains("backends is empty"));
        assert_eq!(
            empty.withdraw_to, None,
            "earnings go to the operator by default"
        );
        let cold = "9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin";
        let with = |line: &str| {
            file(key, r#"["cpu"]"#).replace("[publish]", &format!("{line}\n[publish]"))
        };
        let cfg: WorkerConfig =
            toml::from_str(&with(&format!("withdraw_to = \"{cold}\""))).unwrap();
        assert_eq!(cfg.withdraw_to, Some(cold.parse().unwrap()));
        let err = toml::from_str::<WorkerConfig>(&with("withdraw_to = \"ledger\"")).unwrap_err();
        assert!(
            err.to_string()
                .contains("withdraw_to 'ledger' is not a pubkey"),
            "{err}"
        );
        let both: WorkerConfig = toml::from_str(&file(key, r#"["cuda", "cpu"]"#)).unwrap();
        assert_eq!(
            both.backend_mask().unwrap(),
            concord::constants::BACKEND_CPU | concord::constants::BACKEND_CUDA
        );
    }
}
