//! Protocol constants: PDA seeds, size limits and parameter bounds.

use anchor_lang::prelude::*;

/// Seed of the `Market` PDA: `["market", authority, market_id u64 LE]`.
#[constant]
pub const MARKET_SEED: &[u8] = b"market";
/// Seed of the market vault PDA (a token account owned by the market PDA): `["vault", market]`.
#[constant]
pub const VAULT_SEED: &[u8] = b"vault";
/// Seed of the `Node` PDA: `["node", market, operator]`.
#[constant]
pub const NODE_SEED: &[u8] = b"node";
/// Seed of the `Job` PDA: `["job", market, job_id u64 LE]`.
#[constant]
pub const JOB_SEED: &[u8] = b"job";

/// Domain separator of result commitments:
/// `sha256("concord-commit-v2" ‖ job ‖ node ‖ digest ‖ salt)`.
#[constant]
pub const COMMIT_DOMAIN: &[u8] = b"concord-commit-v2";
/// Domain separator of the digest committed for an input that cannot be fetched or verified:
/// `sha256("concord-input-invalid-v2" ‖ job)`.
#[constant]
pub const INPUT_INVALID_DOMAIN: &[u8] = b"concord-input-invalid-v2";
/// Domain separator of the draw's seed: `sha256("concord-draw-v2" ‖ slot hash ‖ job)`.
#[constant]
pub const DRAW_DOMAIN: &[u8] = b"concord-draw-v2";

/// The SlotHashes sysvar, whose entry for a job's creation slot seeds its draw.
pub const SLOT_HASHES_SYSVAR: Pubkey = solana_sdk_ids::sysvar::slot_hashes::ID;

/// Backups drawn after a job's seats, to take over seats whose holders do not commit.
#[constant]
pub const MAX_BACKUPS: u8 = 3;
/// Picks a draw makes at most (eligible or skipped).
#[constant]
pub const MAX_DRAW_ATTEMPTS: u32 = 32;
/// Bounds of `MarketParams::draw_horizon_slots`. SlotHashes keeps 512 slots.
pub const MIN_DRAW_HORIZON_SLOTS: u64 = 2;
pub const MAX_DRAW_HORIZON_SLOTS: u64 = 512;
/// Upper bound of `MarketParams::max_reassignments`.
pub const MAX_REASSIGNMENTS: u8 = 3;
/// Upper bound of `MarketParams::collateral_bps` (collateral up to 5× the reward).
pub const MAX_COLLATERAL_BPS: u32 = 50_000;
/// Prices and asks are in token base units per this many work units.
#[constant]
pub const WORK_UNIT_SCALE: u64 = 1_000_000_000;

/// Upper bound of `Market::fee_bps` (10 %).
#[constant]
pub const MAX_FEE_BPS: u16 = 1_000;
/// Denominator of basis points.
pub const BPS_DENOMINATOR: u128 = 10_000;
/// Upper bound of a market's `max_replication` and of any job's N.
#[constant]
pub const MAX_REPLICATION: u8 = 7;
/// Shortest allowed execution, reveal or unbonding window, in seconds.
#[constant]
pub const MIN_WINDOW_SECS: i64 = 10;
/// Longest allowed execution, reveal or unbonding window, in seconds (30 days).
#[constant]
pub const MAX_WINDOW_SECS: i64 = 30 * 24 * 60 * 60;

/// Maximum length of a job's kernel parameters, in bytes.
pub const MAX_PARAMS_LEN: usize = 64;
/// Maximum length of an input or output URI, in bytes.
pub const MAX_URI_LEN: usize = 200;
/// Maximum length of a node's GPU model name, in bytes.
pub const MAX_GPU_MODEL_LEN: usize = 32;

/// Backend bit: the node can run kernels on a CUDA GPU.
#[constant]
pub const BACKEND_CUDA: u8 = 1 << 0;
/// Backend bit: the node can run kernels on the bit-identical CPU backend.
#[constant]
pub const BACKEND_CPU: u8 = 1 << 1;
/// Every backend bit the protocol knows.
pub const BACKEND_ALL: u8 = BACKEND_CUDA | BACKEND_CPU;

/// Kernel catalogue ids (see docs/protocol.md, "Kernel catalogue").
pub mod kernel {
    /// `matmul_f32 (M, N, K)`.
    pub const MATMUL_F32: u8 = 1;
    /// `matmul_i8 (M, N, K)`.
    pub const MATMUL_I8: u8 = 2;
    /// `mlp_f32` (layer sizes in params).
    pub const MLP_F32: u8 = 3;
    /// `mandelbrot (width, height, centre, scale, max_iter)`.
    pub const MANDELBROT: u8 = 4;
    /// `sha256_batch (count, message length)`.
    pub const SHA256_BATCH: u8 = 5;
    /// Highest kernel id of catalogue v1.
    pub const MAX_KERNEL_ID: u8 = SHA256_BATCH;
}
