//! Shared fixtures of Concord's integration tests: an embedded network on a free loopback port,
//! the kernels' reference definitions the tests need, and test-side workers that commit and
//! reveal by hand for the seats the draw gives them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use concord_client::{data, ix, ConcordClient, MarketInfo};
use concord_localnet::{Localnet, LocalnetConfig};
use solana_sdk::pubkey::Pubkey;
use solana_sdk::signature::{read_keypair_file, Keypair, Signer};

/// An embedded network with its own runtime and temp directory.
pub struct Net {
    pub rt: tokio::runtime::Runtime,
    net: Option<Localnet>,
    pub dir: tempfile::TempDir,
}

impl Net {
    /// Starts a network (slots every 100 ms) with a bootstrapped market.
    pub fn start() -> Net {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let net = rt
            .block_on(Localnet::start(LocalnetConfig {
                rpc_port: 0,
                data_dir: dir.path().join("localnet"),
                slot_time: Duration::from_millis(100),
                ..Default::default()
            }))
            .expect("localnet starts");
        Net {
            rt,
            net: Some(net),
            dir,
        }
    }
    fn net(&self) -> &Localnet {
        self.net.as_ref().expect("running")
    }
    pub fn url(&self) -> String {
        self.net().url.clone()
    }
    pub fn market(&self) -> Pubkey {
        self.net().info.market()
    }
    pub fn buyer(&self) -> PathBuf {
        self.net().info.buyer_keypair.clone()
    }
    pub fn authority(&self) -> PathBuf {
        self.net().info.authority_keypair.clone()
    }
    pub fn operator(&self, i: usize) -> PathBuf {
        self.net().info.operator_keypairs[i].clone()
    }
    /// A client paying with the keypair at `payer`.
    pub fn client(&self, payer: &Path) -> ConcordClient {
        ConcordClient::new(self.url(), read_keypair_file(payer).expect("keypair"))
    }
}

impl Drop for Net {
    fn drop(&mut self) {
        let net = self.net.take();
        self.rt.block_on(async move { drop(net) });
    }
}

/// matmul_f32 by its definition: C[i][j] = fold over k of fma(A[i][k], B[k][j], acc) from +0.0,
/// a NaN stored as the canonical 0x7FC00000.
pub fn matmul_f32(input: &[u8], m: usize, n: usize, k: usize) -> Vec<u8> {
    let f: Vec<f32> = input
        .as_chunks::<4>()
        .0
        .iter()
        .map(|c| f32::from_le_bytes(*c))
        .collect();
    let (a, b) = f.split_at(m * k);
    let mut out = Vec::with_capacity(m * n * 4);
    for i in 0..m {
        for j in 0..n {
            let acc = (0..k).fold(0.0f32, |acc, kk| a[i * k + kk].mul_add(b[kk * n + j], acc));
            let acc = if acc.is_nan() {
                f32::from_bits(0x7FC0_0000)
            } else {
                acc
            };
            out.extend_from_slice(&acc.to_le_bytes());
        }
    }
    out
}

/// A test-side worker that claims, commits, publishes its output to a file and reveals.
pub struct Worker {
    pub client: ConcordClient,
    pub kp: Keypair,
}

impl Worker {
    /// The operator whose keypair file is `path`, paying its own fees.
    pub fn new(net: &Net, path: &Path) -> Worker {
        Worker {
            client: net.client(path),
            kp: read_keypair_file(path).expect("keypair"),
        }
    }

    /// Registers the operator's node (CPU and CUDA, 24 GiB) with `stake` raw units.
    pub async fn register(&self, m: &MarketInfo, stake: u64) {
        let spec = concord::NodeSpec {
            gpu_model: "test GPU".into(),
            vram_mib: 24_576,
            compute_capability: 89,
            backends: concord::constants::BACKEND_CPU | concord::constants::BACKEND_CUDA,
        };
        let token = m.token_account_of(&self.kp.pubkey());
        let ix = ix::register_node(m, &self.kp.pubkey(), &token, spec, stake, 0);
        self.client
            .send(&[ix], &[&self.kp])
            .await
            .expect("register");
    }

    /// Commits to `output` for this node's seat of `job` (drawing the job first if nobody has);
    /// returns the salt. The output is not published.
    pub async fn commit(&self, m: &MarketInfo, job: &Pubkey, output: &[u8]) -> [u8; 32] {
        let me = self.kp.pubkey();
        let state = self.client.job(job).await.expect("job");
        let seats = match state.state {
            concord::state::JobState::Open => {
                self.client
                    .preview_draw(m, job, &state)
                    .await
                    .expect("drawable")
                    .seats
            }
            _ => vec![],
        };
        let salt = data::sha256(&[me.as_ref(), job.as_ref()].concat());
        let node = m.node_address(&me);
        let c = ix::commitment(job, &node, &data::sha256(output), &salt);
        self.client
            .send(&[ix::commit_result(m, job, &me, c, &seats)], &[&self.kp])
            .await
            .expect("commit");
        salt
    }

    /// Writes `output` under `dir` and reveals its URI (a test shortcut: a real worker serves
    /// the file only once the job settled with its digest).
    pub async fn reveal(
        &self,
        m: &MarketInfo,
        job: &Pubkey,
        output: &[u8],
        salt: [u8; 32],
        dir: &Path,
    ) {
        let path = dir.join(format!("out-{}-{}.bin", job, self.kp.pubkey()));
        std::fs::write(&path, output).expect("publish");
        let uri = data::file_uri(&path).expect("uri");
        let state = self.client.job(job).await.expect("job");
        let ix = ix::reveal_result(
            m,
            job,
            &state,
            &self.kp.pubkey(),
            data::sha256(output),
            salt,
            uri,
        );
        self.client.send(&[ix], &[&self.kp]).await.expect("reveal");
    }
}
