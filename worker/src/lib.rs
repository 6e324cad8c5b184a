//! # concord-worker
//!
//! What a Concord node runs: the kernel catalogue (a CPU backend whose bytes are the protocol's
//! reference semantics) and the job loop that computes each job's draw, serves the seats the
//! program gave this node (verifying inputs, computing, journaling, committing, revealing) and
//! publishes outputs once they are paid for.

pub mod config;
pub mod cuda;
pub mod journal;
pub mod kernels;
pub mod metrics;
pub mod publish;
pub mod runner;

pub use config::{Fault, Publish, WorkerConfig};
pub use runner::{Worker, WorkerHandle};
