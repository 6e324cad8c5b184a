//! Anchor events: one for every state change.

use anchor_lang::prelude::*;

use crate::state::{JobState, MarketParams, NodeSpec, SlotStatus};

#[event]
#[derive(Debug, Clone)]
pub struct MarketCreated {
    pub market: Pubkey,
    pub authority: Pubkey,
    pub market_id: u64,
    pub mint: Pubkey,
    pub vault: Pubkey,
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
pub struct NodeRegistered {
    pub market: Pubkey,
    pub node: Pubkey,
    pub operator: Pubkey,
    pub spec: NodeSpec,
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
    pub fee: u64,
    pub escrow: u64,
    pub claim_deadline: i64,
}

#[event]
#[derive(Debug, Clone)]
pub struct JobClaimed {
    pub job: Pubkey,
    pub node: Pubkey,
    pub slot: u8,
    pub collateral: u64,
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
pub struct SlotSettled {
    pub job: Pubkey,
    pub node: Pubkey,
    pub outcome: SlotStatus,
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
