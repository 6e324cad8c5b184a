use anchor_lang::prelude::*;

use crate::constants::*;
use crate::errors::ConcordError;
use crate::state::NO_INDEX;

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
    /// Unbonding since `since`: out of the draw; stake withdrawable from `withdrawable_at`, fixed
    /// at request time so a later market update cannot extend it.
    Unbonding {
        since: i64,
        withdrawable_at: i64,
    },
}

/// How a seat ended for its node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeatEnd {
    /// Agreed with the quorum: collateral back, reward credited.
    Paid { reward: u64 },
    /// Revealed a digest other than the accepted one: collateral slashed.
    Dissented,
    /// Did not commit, or committed and did not reveal: collateral slashed.
    Missed,
    /// No reward, no penalty (failed job it revealed in, or excused).
    Released,
}

/// A registered compute node. PDA `["node", market, operator]`.
#[account]
#[derive(InitSpace, Debug)]
pub struct Node {
    pub market: Pubkey,
    pub operator: Pubkey,
    /// Deposited stake, including `locked_collateral`.
    pub stake: u64,
    /// Part of `stake` locked as collateral for held seats.
    pub locked_collateral: u64,
    /// Rewards earned and not yet withdrawn.
    pub earnings: u64,
    /// Seats currently held (assigned and not yet settled).
    pub active_seats: u16,
    pub spec: NodeSpec,
    pub status: NodeStatus,
    /// The operator's switch: in the draw (while active) or out of it, without unbonding.
    pub available: bool,
    /// Lowest price the node accepts, in token base units per 10⁹ work units.
    pub ask: u64,
    /// Index of the node's pool entry, `NO_INDEX` when it is not in the pool.
    pub pool_index: u32,
    /// Seats drawn for this node (reputation counters follow).
    pub assigned: u64,
    pub agreed: u64,
    pub dissented: u64,
    /// Seats it did not commit in, or did not reveal in.
    pub missed: u64,
    pub registered_at: i64,
    pub last_active: i64,
    pub bump: u8,
}

impl Node {
    /// Account size including the 8-byte discriminator.
    pub const SIZE: usize = 8 + Self::INIT_SPACE;

    /// A freshly registered node: available, not yet in the pool.
    pub fn new(
        market: Pubkey,
        operator: Pubkey,
        spec: NodeSpec,
        stake: u64,
        ask: u64,
        now: i64,
        bump: u8,
    ) -> Node {
        Node {
            market,
            operator,
            stake,
            locked_collateral: 0,
            earnings: 0,
            active_seats: 0,
            spec,
            status: NodeStatus::Active,
            available: true,
            ask,
            pool_index: NO_INDEX,
            assigned: 0,
            agreed: 0,
            dissented: 0,
            missed: 0,
            registered_at: now,
            last_active: now,
            bump,
        }
    }

    /// Stake not locked as collateral.
    pub fn free_stake(&self) -> u64 {
        self.stake.saturating_sub(self.locked_collateral)
    }

    pub fn is_active(&self) -> bool {
        matches!(self.status, NodeStatus::Active)
    }

    /// Whether the node belongs in the draw's pool.
    pub fn in_draw(&self) -> bool {
        self.available && self.is_active()
    }

    /// Takes a seat: locks `collateral` of the free stake.
    pub fn lock_seat(&mut self, collateral: u64) -> Result<()> {
        require!(
            self.free_stake() >= collateral,
            ConcordError::InsufficientFreeStake
        );
        self.locked_collateral += collateral; // ≤ stake, checked above
        self.active_seats = self
            .active_seats
            .checked_add(1)
            .ok_or(ConcordError::MathOverflow)?;
        self.assigned = self.assigned.saturating_add(1);
        Ok(())
    }

    /// Ends a seat that locked `collateral`. Returns the amount moved: the reward credited or
    /// the collateral slashed (0 when released).
    pub fn end_seat(&mut self, collateral: u64, end: SeatEnd) -> Result<u64> {
        self.locked_collateral = self
            .locked_collateral
            .checked_sub(collateral)
            .ok_or(ConcordError::MathOverflow)?;
        self.active_seats = self
            .active_seats
            .checked_sub(1)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(match end {
            SeatEnd::Paid { reward } => {
                self.earnings = self
                    .earnings
                    .checked_add(reward)
                    .ok_or(ConcordError::MathOverflow)?;
                self.agreed = self.agreed.saturating_add(1);
                reward
            }
            SeatEnd::Dissented | SeatEnd::Missed => {
                self.stake = self
                    .stake
                    .checked_sub(collateral)
                    .ok_or(ConcordError::MathOverflow)?;
                if end == SeatEnd::Dissented {
                    self.dissented = self.dissented.saturating_add(1);
                } else {
                    self.missed = self.missed.saturating_add(1);
                }
                collateral
            }
            SeatEnd::Released => 0,
        })
    }

    /// Adds stake.
    pub fn deposit(&mut self, amount: u64) -> Result<()> {
        self.stake = self
            .stake
            .checked_add(amount)
            .ok_or(ConcordError::MathOverflow)?;
        Ok(())
    }

    /// Starts unbonding at `now`; withdrawable after `period`.
    pub fn unbond(&mut self, now: i64, period: i64) -> Result<i64> {
        require!(self.is_active(), ConcordError::NodeUnbonding);
        let withdrawable_at = now.checked_add(period).ok_or(ConcordError::MathOverflow)?;
        self.status = NodeStatus::Unbonding {
            since: now,
            withdrawable_at,
        };
        Ok(withdrawable_at)
    }

    /// Removes `amount` of stake after unbonding, with no seat held.
    pub fn withdraw_stake(&mut self, amount: u64, now: i64) -> Result<()> {
        match self.status {
            NodeStatus::Active => return err!(ConcordError::NodeNotUnbonding),
            NodeStatus::Unbonding {
                withdrawable_at, ..
            } => require!(now >= withdrawable_at, ConcordError::UnbondingNotElapsed),
        }
        require!(self.active_seats == 0, ConcordError::NodeHasActiveSeats);
        self.stake = self
            .stake
            .checked_sub(amount)
            .ok_or(ConcordError::InsufficientStake)?;
        Ok(())
    }

    /// Removes `amount` of earnings.
    pub fn withdraw_earnings(&mut self, amount: u64) -> Result<()> {
        self.earnings = self
            .earnings
            .checked_sub(amount)
            .ok_or(ConcordError::InsufficientEarnings)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(stake: u64) -> Node {
        let spec = NodeSpec {
            gpu_model: String::new(),
            vram_mib: 1,
            compute_capability: 80,
            backends: BACKEND_ALL,
        };
        Node::new(Pubkey::default(), Pubkey::default(), spec, stake, 0, 0, 0)
    }

    #[test]
    fn seats_lock_and_end_with_each_outcome() {
        let mut n = node(100);
        n.lock_seat(30).unwrap();
        n.lock_seat(30).unwrap();
        n.lock_seat(30).unwrap();
        assert_eq!(
            n.lock_seat(30).unwrap_err(),
            ConcordError::InsufficientFreeStake.into()
        );
        assert_eq!(
            (n.locked_collateral, n.active_seats, n.assigned),
            (90, 3, 3)
        );
        assert_eq!(n.end_seat(30, SeatEnd::Paid { reward: 7 }).unwrap(), 7);
        assert_eq!(n.end_seat(30, SeatEnd::Dissented).unwrap(), 30);
        assert_eq!(n.end_seat(30, SeatEnd::Missed).unwrap(), 30);
        assert_eq!((n.stake, n.locked_collateral, n.earnings), (40, 0, 7));
        assert_eq!(
            (n.agreed, n.dissented, n.missed, n.active_seats),
            (1, 1, 1, 0)
        );
        n.lock_seat(10).unwrap();
        assert_eq!(n.end_seat(10, SeatEnd::Released).unwrap(), 0);
        assert_eq!((n.stake, n.locked_collateral), (40, 0));
        assert!(n.end_seat(10, SeatEnd::Released).is_err(), "nothing locked");
    }

    #[test]
    fn unbonding_gates_withdrawal() {
        let mut n = node(100);
        assert_eq!(
            n.withdraw_stake(1, 0).unwrap_err(),
            ConcordError::NodeNotUnbonding.into()
        );
        n.lock_seat(10).unwrap();
        assert_eq!(n.unbond(100, 50).unwrap(), 150);
        assert!(!n.in_draw());
        assert_eq!(
            n.unbond(101, 50).unwrap_err(),
            ConcordError::NodeUnbonding.into()
        );
        assert_eq!(
            n.withdraw_stake(1, 149).unwrap_err(),
            ConcordError::UnbondingNotElapsed.into()
        );
        assert_eq!(
            n.withdraw_stake(1, 150).unwrap_err(),
            ConcordError::NodeHasActiveSeats.into()
        );
        n.end_seat(10, SeatEnd::Released).unwrap();
        assert_eq!(
            n.withdraw_stake(101, 150).unwrap_err(),
            ConcordError::InsufficientStake.into()
        );
        n.withdraw_stake(100, 150).unwrap();
        assert_eq!(n.stake, 0);
    }
}
