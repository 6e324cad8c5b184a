//! Anchor events: one for every state change.

use anchor_lang::prelude::*;

use crate::draw::Skip;
use crate::state::{JobState, MarketParams, NodeSpec, SeatStatus};

/// Writes `event` to the transaction's log as `Program data: <base64>`, exactly as Anchor's
/// `emit!` does on chain. Natively (the local network, the program tests) Anchor's `emit!` writes
/// nothing; this goes through the syscall stubs instead, which [`crate::native`] routes to the
/// log, so clients observe the same events either way.
pub fn emit<E: anchor_lang::Event>(event: E) {
    let data = event.data();
    #[cfg(target_os = "solana")]
    anchor_lang::solana_program::log::sol_log_data(&[&data]);
    #[cfg(not(target_os = "solana"))]
    solana_sysvar::program_stubs::sol_log_data(&[&data]);
}

#[event]
#[derive(Debug, Clone)]
pub struct MarketCreated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub mint: Pubkey,
    pub vault: Pubkey,
    pub pool: Pubkey,
    pub params: MarketParams,
}

#[event]
#[derive(Debug, Clone)]
pub struct MarketUpdated {
    pub market: Pubkey,
    pub params: MarketParams,
}

#[event]
#[derive(Debug, Clone)]
pub struct MarketPauseSet {
    pub market: Pubkey,
    pub paused: bool,
}

#[event]
#[derive(Debug, Clone)]
pub struct TreasuryWithdrawn {
    pub market: Pubkey,
    pub destination: Pubkey,
    pub amount: u64,
    pub treasury_left: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct SurplusSwept {
    pub market: Pubkey,
    pub amount: u64,
    pub treasury: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct NodeRegistered {
    pub market: Pubkey,
    pub node: Pubkey,
    pub operator: Pubkey,
    pub spec: NodeSpec,
    pub ask: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct NodeAvailabilitySet {
    pub node: Pubkey,
    pub available: bool,
    /// Whether the node is in the draw's pool now (available and not unbonding).
    pub in_pool: bool,
}

#[event]
#[derive(Debug, Clone)]
pub struct NodeAskSet {
    pub node: Pubkey,
    pub ask: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct NodeUpdated {
    pub node: Pubkey,
    pub spec: NodeSpec,
}

#[event]
#[derive(Debug, Clone)]
pub struct StakeDeposited {
    pub node: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct UnbondRequested {
    pub node: Pubkey,
    pub since: i64,
    pub withdrawable_at: i64,
}

#[event]
#[derive(Debug, Clone)]
pub struct StakeWithdrawn {
    pub node: Pubkey,
    pub amount: u64,
    pub stake: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct EarningsWithdrawn {
    pub node: Pubkey,
    pub amount: u64,
    pub earnings: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct JobCreated {
    pub market: Pubkey,
    pub job: Pubkey,
    pub job_id: u64,
    pub buyer: Pubkey,
    pub kernel: u8,
    pub replication: u8,
    pub quorum: u8,
    pub reward_per_worker: u64,
    pub work_units: u64,
    pub price: u64,
    pub fee: u64,
    pub escrow: u64,
    pub created_slot: u64,
}

/// The committee of a job was drawn.
#[event]
#[derive(Debug, Clone)]
pub struct JobDrawn {
    pub job: Pubkey,
    pub seed: [u8; 32],
    /// Seat holders, in seat order.
    pub seats: Vec<Pubkey>,
    pub backups: Vec<Pubkey>,
    /// Picks made, skipped ones included.
    pub attempts: u32,
    pub commit_deadline: i64,
}

/// A picked node was passed over by a draw.
#[event]
#[derive(Debug, Clone)]
pub struct SkippedNode {
    pub job: Pubkey,
    pub node: Pubkey,
    pub reason: Skip,
}

/// A seat whose holder did not commit went to a backup.
#[event]
#[derive(Debug, Clone)]
pub struct SeatReassigned {
    pub job: Pubkey,
    pub seat: u8,
    pub from: Pubkey,
    pub to: Pubkey,
}

#[event]
#[derive(Debug, Clone)]
pub struct ResultCommitted {
    pub job: Pubkey,
    pub node: Pubkey,
    pub commitment: [u8; 32],
}

#[event]
#[derive(Debug, Clone)]
pub struct ResultRevealed {
    pub job: Pubkey,
    pub node: Pubkey,
    pub digest: [u8; 32],
    pub output_uri: String,
}

#[event]
#[derive(Debug, Clone)]
pub struct JobStateChanged {
    pub job: Pubkey,
    pub from: JobState,
    pub to: JobState,
    pub at: i64,
}

#[event]
#[derive(Debug, Clone)]
pub struct SeatSettled {
    pub job: Pubkey,
    pub node: Pubkey,
    pub outcome: SeatStatus,
    /// Reward credited (Paid) or collateral slashed (Slashed); 0 when Released.
    pub amount: u64,
}

#[event]
#[derive(Debug, Clone)]
pub struct JobFinalized {
    pub job: Pubkey,
    pub state: JobState,
    pub accepted_digest: Option<[u8; 32]>,
    pub paid: u64,
    pub slashed: u64,
    pub fee: u64,
    pub refund: u64,
    /// False if the refund could not be delivered and waits for `close_job`.
    pub refund_delivered: bool,
}

#[event]
#[derive(Debug, Clone)]
pub struct JobClosed {
    pub job: Pubkey,
    pub refund: u64,
}

/// A terminal job's pending refund reached the buyer's refund account.
#[event]
#[derive(Debug, Clone)]
pub struct RefundDelivered {
    pub job: Pubkey,
    pub amount: u64,
}
