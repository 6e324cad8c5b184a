//! The committee draw: a stake-weighted random choice of a job's seats and backups that nobody
//! can steer. Pure functions over the pool, shared by the program and by off-chain clients
//! (`concord-client` recomputes every draw with this very code).
//!
//! - **Seed**: `sha256("concord-draw-v2" ‖ hash of slot created_slot ‖ job address)`, where the
//!   slot hash is read from the SlotHashes sysvar in a later slot. Nobody knows it when the job is
//!   created, so simulating or aborting `create_job` cannot grind it; the job address makes jobs
//!   created in the same slot draw independently.
//! - **Picks**: attempt `a` (0, 1, 2, …) takes `x = u64 LE of sha256(seed ‖ a)[..8]` and maps it
//!   to `⌊x · W / 2⁶⁴⌋` in the remaining weight `W` of the snapshot of the job's creation epoch;
//!   a Fenwick search finds the entry in O(log P). The entry leaves the tree for the rest of the
//!   draw (without replacement: one seat per node), whether it is eligible or skipped.
//! - **Eligibility** of a picked entry: see [`Skip`]. The first `seats` eligible picks take the
//!   seats, the next `backups` ones are the backups in draw order. At most
//!   [`MAX_DRAW_ATTEMPTS`] picks are made; the tree is restored afterwards.

use anchor_lang::prelude::*;

use crate::constants::*;
use crate::state::{Pool, PoolEntry, Requirements};

/// What a job asks of the nodes it draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrawRules {
    pub requirements: Requirements,
    /// The job's price (base units per 10⁹ work units): a node's ask must not exceed it.
    pub price: u64,
    /// Collateral a seat locks: a node needs this much free stake.
    pub collateral: u64,
    /// The market's minimum stake, copied into the job.
    pub min_stake: u64,
    /// Slot of `create_job`: a node changed by its operator at or after it is skipped.
    pub created_slot: u64,
}

/// Why a picked node was passed over.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Skip {
    /// The entry no longer holds the node the snapshot counted (it left the pool).
    Left,
    /// The node changed (stake, hardware, ask, availability) at or after the job's slot.
    ChangedAfterCreation,
    /// VRAM, compute capability or backends below the job's requirements.
    Hardware,
    /// Its ask is above the job's price.
    Ask,
    /// Its reputation is below the job's minimum.
    Reputation,
    /// Its stake is below the market's minimum.
    Stake,
    /// Not enough free stake to lock the seat's collateral.
    FreeStake,
}

/// The outcome of a draw: pool indices in draw order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Draw {
    pub seats: Vec<u32>,
    pub backups: Vec<u32>,
    /// Picked and passed over, in draw order.
    pub skipped: Vec<(u32, Skip)>,
    pub attempts: u32,
}

impl Draw {
    /// Whether every seat found a node.
    pub fn is_staffed(&self, seats: usize) -> bool {
        self.seats.len() == seats
    }
}

/// `sha256("concord-draw-v2" ‖ slot_hash ‖ job)`.
pub fn seed(slot_hash: &[u8; 32], job: &Pubkey) -> [u8; 32] {
    solana_sha256_hasher::hashv(&[DRAW_DOMAIN, slot_hash, job.as_ref()]).to_bytes()
}

/// The hash of `slot` in SlotHashes sysvar data (`u64` count, then `(slot u64, hash [32])`
/// entries, newest first), if the sysvar still holds it.
pub fn slot_hash(sysvar_data: &[u8], slot: u64) -> Option<[u8; 32]> {
    const ENTRY: usize = 40;
    let count = u64::from_le_bytes(sysvar_data.get(..8)?.try_into().ok()?) as usize;
    let entries = sysvar_data.get(8..8usize.checked_add(count.checked_mul(ENTRY)?)?)?;
    let slot_at =
        |i: usize| u64::from_le_bytes(entries[i * ENTRY..i * ENTRY + 8].try_into().unwrap());
    // Descending by slot: binary search on the reversed order.
    let (mut lo, mut hi) = (0usize, count);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let s = slot_at(mid);
        if s == slot {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(&entries[mid * ENTRY + 8..mid * ENTRY + ENTRY]);
            return Some(hash);
        }
        if s > slot {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    None
}

/// The uniform draw of attempt `attempt` mapped into `[0, remaining)`.
pub fn pick_target(seed: &[u8; 32], attempt: u32, remaining: u64) -> u64 {
    let h = solana_sha256_hasher::hashv(&[seed, &attempt.to_le_bytes()]).to_bytes();
    let x = u64::from_le_bytes(h[..8].try_into().unwrap());
    ((u128::from(x) * u128::from(remaining)) >> 64) as u64
}

/// Why `entry` cannot take a seat of a job with `rules`, judged against snapshot `epoch`.
pub fn ineligibility(entry: &PoolEntry, epoch: u64, rules: &DrawRules) -> Option<Skip> {
    let req = &rules.requirements;
    if !entry.is_live() || entry.joined_epoch >= epoch {
        return Some(Skip::Left);
    }
    if entry.changed_slot >= rules.created_slot {
        return Some(Skip::ChangedAfterCreation);
    }
    if entry.vram_mib < req.min_vram_mib
        || entry.compute_capability < req.min_compute_capability
        || entry.backends & req.backends == 0
    {
        return Some(Skip::Hardware);
    }
    if entry.ask > rules.price {
        return Some(Skip::Ask);
    }
    if !req.reputation_met(entry.agreed, entry.faults) {
        return Some(Skip::Reputation);
    }
    if entry.weight < rules.min_stake {
        return Some(Skip::Stake);
    }
    if entry.free_stake() < rules.collateral {
        return Some(Skip::FreeStake);
    }
    None
}

/// Draws `seats` seats and up to `backups` backups for a job created in pool epoch `epoch`.
/// Returns `None` if the pool no longer keeps that epoch's snapshot. The pool is left as it was.
pub fn draw(
    pool: &mut Pool,
    epoch: u64,
    seed: &[u8; 32],
    rules: &DrawRules,
    seats: usize,
    backups: usize,
) -> Option<Draw> {
    let b = pool.snapshot_of(epoch)?;
    let mut remaining = pool.snapshot_total[b];
    let mut out = Draw::default();
    let mut removed: Vec<(usize, u64)> = Vec::with_capacity(MAX_DRAW_ATTEMPTS as usize);
    while out.attempts < MAX_DRAW_ATTEMPTS
        && remaining > 0
        && out.seats.len() + out.backups.len() < seats + backups
    {
        let target = pick_target(seed, out.attempts, remaining);
        out.attempts += 1;
        let index = pool.tree_find(b, target);
        let weight = pool.tree_weight(b, index);
        pool.tree_add(b, index, weight.wrapping_neg());
        remaining -= weight;
        removed.push((index, weight));
        match ineligibility(&pool.entries[index], epoch, rules) {
            Some(reason) => out.skipped.push((index as u32, reason)),
            None if out.seats.len() < seats => out.seats.push(index as u32),
            None => out.backups.push(index as u32),
        }
    }
    for (index, weight) in removed {
        pool.tree_add(b, index, weight);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::pool::tests::{boxed_pool, node};
    use crate::state::{Change, Node};

    fn rules() -> DrawRules {
        DrawRules {
            requirements: Requirements {
                min_vram_mib: 0,
                min_compute_capability: 0,
                backends: BACKEND_ALL,
                min_agreed: 0,
                max_fault_bps: 10_000,
            },
            price: u64::MAX,
            collateral: 1,
            min_stake: 1,
            created_slot: 1_000,
        }
    }

    /// A pool whose epoch-1 snapshot holds `stakes` (joined in epoch 0, slot 1).
    fn pool_with(stakes: &[u64]) -> (Box<Pool>, Vec<Node>) {
        let mut pool = boxed_pool(100);
        let mut nodes = vec![];
        for s in stakes {
            let mut n = node(*s);
            pool.reconcile(Pubkey::new_unique(), &mut n, 1, Change::Operator)
                .unwrap();
            nodes.push(n);
        }
        pool.roll(100);
        (pool, nodes)
    }

    #[test]
    fn slot_hash_lookup_reads_the_sysvar_layout() {
        let mut data = 3u64.to_le_bytes().to_vec();
        for (slot, tag) in [(30u64, 3u8), (20, 2), (10, 1)] {
            data.extend_from_slice(&slot.to_le_bytes());
            data.extend_from_slice(&[tag; 32]);
        }
        assert_eq!(slot_hash(&data, 20), Some([2; 32]));
        assert_eq!(slot_hash(&data, 30), Some([3; 32]));
        assert_eq!(slot_hash(&data, 10), Some([1; 32]));
        assert_eq!(slot_hash(&data, 15), None);
        assert_eq!(slot_hash(&data, 31), None);
        assert_eq!(slot_hash(&data[..50], 20), None, "truncated data");
        assert_eq!(slot_hash(&[], 20), None);
    }

    #[test]
    fn a_draw_is_deterministic_distinct_and_leaves_the_pool_unchanged() {
        let (mut pool, _) = pool_with(&[10; 20]);
        let before = pool.trees;
        let seed = [9u8; 32];
        let a = draw(&mut pool, 1, &seed, &rules(), 5, 3).unwrap();
        assert_eq!(pool.trees, before);
        let b = draw(&mut pool, 1, &seed, &rules(), 5, 3).unwrap();
        assert_eq!(a, b);
        assert_eq!((a.seats.len(), a.backups.len(), a.attempts), (5, 3, 8));
        let mut all: Vec<u32> = a.seats.iter().chain(&a.backups).copied().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 8, "one seat per node");
        assert_ne!(draw(&mut pool, 1, &[8; 32], &rules(), 5, 3).unwrap(), a);
        // Epoch 0's snapshot is the empty pool; an unkept epoch yields nothing.
        assert!(draw(&mut pool, 0, &seed, &rules(), 5, 3)
            .unwrap()
            .seats
            .is_empty());
        assert!(draw(&mut pool, 7, &seed, &rules(), 5, 3).is_none());
    }

    #[test]
    fn ineligible_picks_are_skipped_with_their_reason() {
        let (mut pool, _) = pool_with(&[10; 6]);
        pool.entries[0].ask = 500;
        pool.entries[1].vram_mib = 1;
        pool.entries[2].locked = 10;
        pool.entries[3].changed_slot = 1_000;
        pool.entries[4].faults = 3;
        let mut r = rules();
        r.price = 499;
        r.requirements.min_vram_mib = 8_192;
        r.requirements.max_fault_bps = 5_000;
        let d = draw(&mut pool, 1, &[1; 32], &r, 1, 0).unwrap();
        assert_eq!(d.seats, vec![5]);
        let mut reasons: Vec<Skip> = d.skipped.iter().map(|s| s.1).collect();
        reasons.sort_by_key(|s| *s as u8);
        for reason in &reasons {
            assert!(matches!(
                reason,
                Skip::Ask
                    | Skip::Hardware
                    | Skip::FreeStake
                    | Skip::ChangedAfterCreation
                    | Skip::Reputation
            ));
        }
        // Every node ineligible: the draw ends unstaffed once the pool is exhausted.
        r.price = 0;
        pool.entries[5].ask = 1;
        let d = draw(&mut pool, 1, &[1; 32], &r, 1, 0).unwrap();
        assert!(!d.is_staffed(1));
        assert_eq!(d.attempts, 6);
    }

    #[test]
    fn nodes_that_joined_after_the_snapshot_are_not_drawn() {
        let (mut pool, _) = pool_with(&[10; 3]);
        let mut late = node(1_000_000);
        pool.reconcile(Pubkey::new_unique(), &mut late, 150, Change::Operator)
            .unwrap();
        for s in 0..50u8 {
            let d = draw(&mut pool, 1, &[s; 32], &rules(), 3, 0).unwrap();
            assert!(!d.seats.contains(&late.pool_index));
            assert_eq!(d.seats.len(), 3);
        }
    }

    #[test]
    fn picks_follow_stake() {
        // One node with half the stake: it is the first seat about half the time.
        let mut stakes = vec![1_000u64];
        stakes.extend([100u64; 10]);
        let (mut pool, _) = pool_with(&stakes);
        let mut first = 0;
        let trials = 4_000u32;
        for t in 0..trials {
            let seed = solana_sha256_hasher::hash(&t.to_le_bytes()).to_bytes();
            let d = draw(&mut pool, 1, &seed, &rules(), 1, 0).unwrap();
            first += u32::from(d.seats[0] == 0);
        }
        let share = f64::from(first) / f64::from(trials);
        assert!((0.46..0.54).contains(&share), "share {share}");
    }
}
