use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;

/// Hardware a node offers.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct NodeSpec {
    /// GPU model name, e.g. "NVIDIA H100 80GB HBM3" (≤ 32 bytes).
    #[max_len(MAX_GPU_MODEL_LEN)]
    pub gpu_model: String,
    /// GPU memory in MiB.
    pub vram_mib: u32,
    /// CUDA compute capability as major × 10 + minor (e.g. 90 for sm_90).
    pub compute_capability: u16,
    /// Bitmask of `BACKEND_CUDA` and `BACKEND_CPU`.
    pub backends: u8,
}

impl NodeSpec {
    pub fn validate(&self) -> Result<()> {
        require!(
            self.gpu_model.len() <= MAX_GPU_MODEL_LEN,
            ConcordError::GpuModelTooLong
        );
        require!(
            self.backends != 0 && self.backends & !BACKEND_ALL == 0,
            ConcordError::InvalidBackends
        );
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum NodeStatus {
    Active,
    /// Unbonding since `since`: no new claims; stake withdrawable from `withdrawable_at`, fixed
    /// at request time so a later market update cannot extend it.
    Unbonding {
        since: i64,
        withdrawable_at: i64,
    },
}

/// A registered compute node. PDA `["node", market, operator]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Node {
    pub market: Pubkey,
    pub operator: Pubkey,
    /// Deposited stake, including `locked_collateral`.
    pub stake: u64,
    /// Part of `stake` locked as collateral for held slots.
    pub locked_collateral: u64,
    /// Rewards earned and not yet withdrawn.
    pub earnings: u64,
    /// Slots currently held (claimed and not yet settled).
    pub active_slots: u16,
    pub spec: NodeSpec,
    pub status: NodeStatus,
    pub claimed: u64,
    pub agreed: u64,
    pub dissented: u64,
    pub missed: u64,
    pub registered_at: i64,
    pub last_active: i64,
    pub bump: u8,
}

impl Node {
    /// Account size including the 8-byte discriminator.
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    /// Stake not locked as collateral.
    pub fn free_stake(&self) -> u64 {
        self.stake.saturating_sub(self.locked_collateral)
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, NodeStatus::Active)
    }
}
