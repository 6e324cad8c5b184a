//! # concord-client
//!
//! Typed Rust client for [Concord](https://github.com/concord-market/concord), a decentralized
//! GPU compute market on Solana: PDA helpers ([`pda`]), instruction builders for every
//! instruction ([`ix`]), the committee draw computed off-chain and quotes ([`draw`]), account
//! fetchers (single and batched), event decoding ([`events`]), typed errors matching program
//! error codes ([`ClientError`], [`ConcordError`]), the kernel catalogue ([`kernels`]), and the
//! buyer's flow: submit a job and await the verified result.
//!
//! ```no_run
//! use concord_client::{data, ConcordClient, JobSpec, KernelParams};
//! use concord::{constants::BACKEND_CPU, Requirements};
//! # async fn run(market: solana_sdk::pubkey::Pubkey, buyer: solana_sdk::signature::Keypair)
//! #     -> Result<(), concord_client::ClientError> {
//! use solana_sdk::signature::Keypair;
//! let client = ConcordClient::new("http://127.0.0.1:8899", buyer.insecure_clone());
//!
//! // 2×2 · 2×2 matrix product, input inline.
//! let input: Vec<u8> = [1f32, 2., 3., 4., 5., 6., 7., 8.].iter().flat_map(|v| v.to_le_bytes()).collect();
//! let spec = JobSpec {
//!     params: KernelParams::MatmulF32 { m: 2, n: 2, k: 2 },
//!     input_uri: data::inline_uri(&input),
//!     input_digest: data::sha256(&input),
//!     requirements: Requirements {
//!         min_vram_mib: 0,
//!         min_compute_capability: 0,
//!         backends: BACKEND_CPU,
//!         min_agreed: 0,       // no track record needed
//!         max_fault_bps: 10_000,
//!     },
//!     replication: 3,
//!     quorum: 2,
//!     reward_per_worker: 1_000_000,
//! };
//! let job = client.submit_job(&market, &buyer, &spec).await?;
//! let result = job.wait().await?;                      // cranks the draw and settlement when due
//! let output = result.fetch_verified_output(1 << 20).await?; // sha256-checked
//! println!("{} bytes, digest {:?}", output.len(), result.accepted_digest);
//! # Ok(()) }
//! ```

#![deny(missing_docs)]

pub mod amount;
#[cfg(feature = "rpc")]
pub mod client;
pub mod data;
pub mod draw;
pub mod error;
pub mod events;
pub mod ix;
#[cfg(feature = "rpc")]
pub mod job;
pub mod kernels;
pub mod pda;
pub mod spec;

#[cfg(feature = "rpc")]
pub use client::{ClientStats, ConcordClient, SendOptions};
pub use error::{ClientError, ConcordError, ProgramErrorInfo, Result};
pub use ix::MarketInfo;
#[cfg(feature = "rpc")]
pub use job::{JobHandle, JobResult, JobSpec, WaitOptions};
pub use kernels::{Kernel, KernelParams};

/// Re-exports of the program crate: account types, arguments, constants.
pub use concord;
