use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;

/// Tunable parameters of a market. `validate()` bounds every field.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Protocol fee in basis points of reward × N (≤ 1000).
    pub fee_bps: u16,
    /// Minimum stake a node must hold to claim.
    pub min_stake: u64,
    /// Collateral locked from a node's stake for every slot it holds.
    pub collateral_per_slot: u64,
    /// Seconds a job stays claimable after creation.
    pub claim_window: i64,
    /// Seconds between the Nth claim and the commit deadline.
    pub execution_window: i64,
    /// Seconds between the last commit (or the commit deadline) and the reveal deadline.
    pub reveal_window: i64,
    /// Seconds between `request_unbond` and the earliest `withdraw_stake`.
    pub unbonding_period: i64,
    /// Largest replication factor N a job may ask for (1..=7).
    pub max_replication: u8,
}

impl MarketParams {
    /// Checks every parameter against the protocol's bounds.
    pub fn validate(&self) -> Result<()> {
        require!(self.fee_bps <= MAX_FEE_BPS, ConcordError::FeeTooHigh);
        require!(
            (1..=MAX_REPLICATION).contains(&self.max_replication),
            ConcordError::InvalidMaxReplication
        );
        require!(
            self.collateral_per_slot > 0 && self.collateral_per_slot <= self.min_stake,
            ConcordError::InvalidCollateral
        );
        for window in [
            self.claim_window,
            self.execution_window,
            self.reveal_window,
            self.unbonding_period,
        ] {
            require!(
                (MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&window),
                ConcordError::InvalidWindow
            );
        }
        Ok(())
    }
}

/// A market: one mint, one vault, its parameters and the running totals of what the vault holds.
///
/// PDA `["market", authority, market_id u64 LE]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Market {
    pub authority: Pubkey,
    pub market_id: u64,
    pub mint: Pubkey,
    pub mint_decimals: u8,
    /// The token program that owns the mint (SPL Token or Token-2022).
    pub token_program: Pubkey,
    /// Token account `["vault", market]` whose authority is this market PDA.
    pub vault: Pubkey,
    /// Id the next `create_job` must use.
    pub next_job_id: u64,
    /// Fees and slashed collateral, withdrawable by the authority.
    pub treasury: u64,
    /// Σ node.stake over this market's nodes.
    pub total_stake: u64,
    /// Σ node.earnings over this market's nodes.
    pub total_earnings: u64,
    /// Σ job.escrow over this market's open (not closed) jobs.
    pub total_escrow: u64,
    pub node_count: u64,
    pub params: MarketParams,
    pub paused: bool,
    pub bump: u8,
    pub vault_bump: u8,
}

impl Market {
    /// Account size including the 8-byte discriminator.
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    /// What the vault must hold: the conservation invariant's right-hand side.
    pub fn expected_vault_balance(&self) -> Option<u64> {
        self.total_stake
            .checked_add(self.total_earnings)?
            .checked_add(self.total_escrow)?
            .checked_add(self.treasury)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> MarketParams {
        MarketParams {
            fee_bps: 250,
            min_stake: 100,
            collateral_per_slot: 20,
            claim_window: 600,
            execution_window: 900,
            reveal_window: 300,
            unbonding_period: 86_400,
            max_replication: 7,
        }
    }

    #[test]
    fn validate_bounds_every_parameter() {
        assert!(params().validate().is_ok());
        let bad = [
            MarketParams {
                fee_bps: 1_001,
                ..params()
            },
            MarketParams {
                max_replication: 0,
                ..params()
            },
            MarketParams {
                max_replication: 8,
                ..params()
            },
            MarketParams {
                collateral_per_slot: 0,
                ..params()
            },
            MarketParams {
                collateral_per_slot: 101,
                ..params()
            },
            MarketParams {
                claim_window: MIN_WINDOW_SECS - 1,
                ..params()
            },
            MarketParams {
                execution_window: MAX_WINDOW_SECS + 1,
                ..params()
            },
            MarketParams {
                reveal_window: -1,
                ..params()
            },
            MarketParams {
                unbonding_period: 0,
                ..params()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?} must be rejected");
        }
    }
}
