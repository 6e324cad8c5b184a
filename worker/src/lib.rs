//! # concord-worker
//!
//! What a Concord node runs: the kernel catalogue (a CPU backend whose bytes are the protocol's
//! reference semantics) and the job loop that discovers jobs, verifies inputs, claims, computes,
//! journals, commits, reveals and collects.

pub mod config;
pub mod cuda;
pub mod journal;
pub mod kernels;
pub mod metrics;
pub mod publish;
pub mod runner;

pub use config::{Fault, Publish, WorkerConfig};
pub use runner::Worker;
