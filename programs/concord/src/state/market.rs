use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;

/// Tunable parameters of a market. `validate()` bounds every field.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct MarketParams {
    /// Protocol fee in basis points of reward × N (≤ 1000).
    pub fee_bps: u16,
    /// Minimum stake a node must hold to be drawn.
    pub min_stake: u64,
    /// Floor of the collateral a seat locks.
    pub min_collateral: u64,
    /// Collateral a seat locks, in basis points of the job's reward per worker (≤ 50 000, i.e.
    /// 5×), never below `min_collateral`.
    pub collateral_bps: u32,
    /// Seconds between the draw (or a reassignment) and the commit deadline.
    pub execution_window: i64,
    /// Seconds between the last commit (or the commit deadline) and the reveal deadline.
    pub reveal_window: i64,
    /// Seconds between `request_unbond` and the earliest `withdraw_stake`.
    pub unbonding_period: i64,
    /// Largest replication factor N a job may ask for (1..=7).
    pub max_replication: u8,
    /// Slots after a job's creation slot within which it must be drawn (2..=512), and the length
    /// of a pool epoch. Fixed at market creation.
    pub draw_horizon_slots: u64,
    /// Reassignment rounds a job may go through at its commit deadline (0..=3).
    pub max_reassignments: u8,
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
            self.min_collateral > 0
                && self.min_collateral <= self.min_stake
                && self.collateral_bps <= MAX_COLLATERAL_BPS,
            ConcordError::InvalidCollateral
        );
        for window in [
            self.execution_window,
            self.reveal_window,
            self.unbonding_period,
        ] {
            require!(
                (MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&window),
                ConcordError::InvalidWindow
            );
        }
        require!(
            (MIN_DRAW_HORIZON_SLOTS..=MAX_DRAW_HORIZON_SLOTS).contains(&self.draw_horizon_slots),
            ConcordError::InvalidDrawHorizon
        );
        require!(
            self.max_reassignments <= MAX_REASSIGNMENTS,
            ConcordError::InvalidReassignments
        );
        Ok(())
    }

    /// Collateral of a seat of a job paying `reward` per worker:
    /// max(min_collateral, ceil(reward × collateral_bps / 10 000)).
    pub fn collateral_for(&self, reward: u64) -> Result<u64> {
        let scaled = crate::pricing::bps_of(reward, u64::from(self.collateral_bps))
            .ok_or(ConcordError::MathOverflow)?;
        Ok(scaled.max(self.min_collateral))
    }
}

/// A market: one mint, one vault, one pool, its parameters and the running totals of what the
/// vault holds.
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
    /// The draw's pool of available nodes.
    pub pool: Pubkey,
    /// Id the next `create_job` must use.
    pub next_job_id: u64,
    /// Fees, slashed collateral and swept surplus, withdrawable by the authority.
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

    /// Stake moves in (`deposit`) or out.
    pub fn add_stake(&mut self, amount: u64) -> Result<()> {
        self.total_stake = self
            .total_stake
            .checked_add(amount)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(())
    }

    pub fn remove_stake(&mut self, amount: u64) -> Result<()> {
        self.total_stake = self
            .total_stake
            .checked_sub(amount)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(())
    }

    /// Collateral slashed from a node's stake goes to the treasury.
    pub fn take_slash(&mut self, amount: u64) -> Result<()> {
        self.remove_stake(amount)?;
        self.treasury = self
            .treasury
            .checked_add(amount)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn params() -> MarketParams {
        MarketParams {
            fee_bps: 250,
            min_stake: 100,
            min_collateral: 20,
            collateral_bps: 10_000,
            execution_window: 900,
            reveal_window: 300,
            unbonding_period: 86_400,
            max_replication: 7,
            draw_horizon_slots: 64,
            max_reassignments: 1,
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
                min_collateral: 0,
                ..params()
            },
            MarketParams {
                min_collateral: 101,
                ..params()
            },
            MarketParams {
                collateral_bps: MAX_COLLATERAL_BPS + 1,
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
            MarketParams {
                draw_horizon_slots: 1,
                ..params()
            },
            MarketParams {
                draw_horizon_slots: 513,
                ..params()
            },
            MarketParams {
                max_reassignments: 4,
                ..params()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?} must be rejected");
        }
    }

    #[test]
    fn collateral_scales_with_the_reward_above_a_floor() {
        let p = params();
        assert_eq!(p.collateral_for(1).unwrap(), 20);
        assert_eq!(p.collateral_for(500).unwrap(), 500);
        let p = MarketParams {
            collateral_bps: 5_000,
            ..p
        };
        assert_eq!(p.collateral_for(101).unwrap(), 51);
        let p = MarketParams {
            collateral_bps: MAX_COLLATERAL_BPS,
            ..p
        };
        assert_eq!(p.collateral_for(u64::MAX / 5).unwrap(), u64::MAX / 5 * 5);
        assert!(p.collateral_for(u64::MAX).is_err());
    }
}
