//! The draw's index of available nodes: one zero-copy account per market.
//!
//! Layout (little-endian, `#[repr(C)]`, no padding): a 96-byte header, `POOL_CAPACITY` entries of
//! 96 bytes, then two Fenwick trees of `POOL_CAPACITY` u64 each: 114 784 bytes, 114 792 with the
//! discriminator.
//!
//! **Entries** hold the *current* state of every node that is available and active: its key, its
//! weight (= its stake), the collateral it has locked, and what the draw checks without the node
//! account (hardware, ask, reputation). An entry mirrors its `Node`: every handler that changes a
//! node calls [`Pool::reconcile`] afterwards, which inserts, removes or refreshes the entry.
//! Freed indices are reused through a free list, so membership never needs a scan.
//!
//! **Snapshots.** The draw must not depend on anything that changes after the seed can be known
//! (an adversary would otherwise change its own entries until the draw suits it). Time is cut into
//! pool epochs of `epoch_slots` slots. The first instruction that touches the pool in epoch `e`
//! copies every current weight into the Fenwick tree of buffer `e % 2` ([`Pool::roll`]), before it
//! changes anything. A job created in epoch `e` is drawn against that tree, which was fixed
//! before the job's slot, so no change made after the job exists can move a pick. The draw
//! horizon is at most one epoch, so a job is drawn in epoch `e` or `e + 1`, while buffer `e % 2`
//! still holds epoch `e`.

use anchor_lang::prelude::*;

use crate::errors::ConcordError;
use crate::state::Node;

/// Number of entries of a pool: nodes that can be available in one market at once.
pub const POOL_CAPACITY: usize = 1024;
/// "No index": a free list's end, or a node that is not in the pool.
pub const NO_INDEX: u32 = u32::MAX;
/// "No snapshot" in `snapshot_epoch`.
pub const NO_EPOCH: u64 = u64::MAX;

/// One available node, as the draw sees it.
#[zero_copy]
#[derive(Debug, PartialEq, Eq)]
pub struct PoolEntry {
    /// The node account.
    pub node: Pubkey,
    /// The node's stake: its weight in the draw.
    pub weight: u64,
    /// Collateral the node has locked in seats.
    pub locked: u64,
    /// Lowest price the node accepts (base units per 10⁹ work units).
    pub ask: u64,
    /// Pool epoch in which the node (re)joined: snapshots of that epoch or earlier do not hold it.
    pub joined_epoch: u64,
    /// Slot of the operator's last change (join, stake, hardware, ask). A job created at or
    /// before this slot skips the node: nothing decided after a job exists can make a node
    /// eligible for it.
    pub changed_slot: u64,
    pub vram_mib: u32,
    /// Jobs in which the node agreed with the quorum.
    pub agreed: u32,
    /// Jobs in which it dissented, did not show up, or did not reveal.
    pub faults: u32,
    /// Next free index when this entry is free.
    pub next_free: u32,
    pub compute_capability: u16,
    pub backends: u8,
    /// 1 while the entry holds a node.
    pub live: u8,
    pub _reserved: [u8; 4],
}

impl PoolEntry {
    pub const EMPTY: PoolEntry = PoolEntry {
        node: Pubkey::new_from_array([0; 32]),
        weight: 0,
        locked: 0,
        ask: 0,
        joined_epoch: 0,
        changed_slot: 0,
        vram_mib: 0,
        agreed: 0,
        faults: 0,
        next_free: NO_INDEX,
        compute_capability: 0,
        backends: 0,
        live: 0,
        _reserved: [0; 4],
    };

    pub fn is_live(&self) -> bool {
        self.live == 1
    }

    /// Stake not locked as collateral.
    pub fn free_stake(&self) -> u64 {
        self.weight.saturating_sub(self.locked)
    }

    fn refresh(&mut self, node: &Node) {
        self.weight = node.stake;
        self.locked = node.locked_collateral;
        self.ask = node.ask;
        self.vram_mib = node.spec.vram_mib;
        self.compute_capability = node.spec.compute_capability;
        self.backends = node.spec.backends;
        self.agreed = saturate_u32(node.agreed);
        self.faults = saturate_u32(node.dissented.saturating_add(node.missed));
    }
}

fn saturate_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// What changed a node, for [`Pool::reconcile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// The operator changed its node (registration, stake, hardware, ask, availability): jobs
    /// that already exist skip the node.
    Operator,
    /// The protocol changed it (collateral locked or released, slash, reputation).
    Protocol,
}

/// The pool of a market. Address stored in `Market::pool`; created by the market authority as
/// a plain account of [`Pool::SIZE`] bytes owned by the program (it is larger than a program may
/// allocate), then initialised by `create_market`.
#[account(zero_copy)]
#[derive(Debug)]
pub struct Pool {
    pub market: Pubkey,
    /// Length of a pool epoch in slots (the market's draw horizon, fixed at creation).
    pub epoch_slots: u64,
    /// Σ weight of the live entries.
    pub total_weight: u64,
    /// Epoch held by each snapshot buffer (`NO_EPOCH` if none).
    pub snapshot_epoch: [u64; 2],
    /// Σ weight held by each snapshot.
    pub snapshot_total: [u64; 2],
    /// Indices below `len` have been used at least once.
    pub len: u32,
    /// Live entries.
    pub count: u32,
    /// First free index below `len`, or `NO_INDEX`.
    pub free_head: u32,
    pub _reserved: u32,
    pub entries: [PoolEntry; POOL_CAPACITY],
    /// Fenwick trees of the snapshot weights (1-based positions stored at `[i - 1]`).
    pub trees: [[u64; POOL_CAPACITY]; 2],
}

impl Pool {
    /// Account size including the 8-byte discriminator.
    pub const SIZE: usize = 8 + std::mem::size_of::<Pool>();

    /// Initialises a zeroed pool at `slot`. The current epoch's snapshot is the empty pool.
    pub fn init(&mut self, market: Pubkey, epoch_slots: u64, slot: u64) {
        self.market = market;
        self.epoch_slots = epoch_slots.max(1);
        self.total_weight = 0;
        self.len = 0;
        self.count = 0;
        self.free_head = NO_INDEX;
        let e = self.epoch_of(slot);
        self.snapshot_epoch = [NO_EPOCH; 2];
        self.snapshot_epoch[(e % 2) as usize] = e;
        self.snapshot_total = [0; 2];
    }

    pub fn epoch_of(&self, slot: u64) -> u64 {
        slot / self.epoch_slots.max(1)
    }

    /// Takes the snapshot of the current epoch if nobody has yet. Called before any change.
    pub fn roll(&mut self, slot: u64) {
        let e = self.epoch_of(slot);
        let b = (e % 2) as usize;
        if self.snapshot_epoch[b] == e {
            return;
        }
        // O(P) Fenwick construction from the current weights.
        let tree = &mut self.trees[b];
        for (t, entry) in tree.iter_mut().zip(self.entries.iter()) {
            *t = if entry.is_live() { entry.weight } else { 0 };
        }
        for i in 1..=POOL_CAPACITY {
            let parent = i + (i & i.wrapping_neg());
            if parent <= POOL_CAPACITY {
                tree[parent - 1] = tree[parent - 1].wrapping_add(tree[i - 1]);
            }
        }
        self.snapshot_epoch[b] = e;
        self.snapshot_total[b] = self.total_weight;
    }

    /// The snapshot buffer holding `epoch`, if it is still kept.
    pub fn snapshot_of(&self, epoch: u64) -> Option<usize> {
        let b = (epoch % 2) as usize;
        (self.snapshot_epoch[b] == epoch).then_some(b)
    }

    /// Makes the pool agree with `node` (whose account is `key`): inserted if it is available and
    /// active, removed if not, refreshed otherwise. Sets `node.pool_index`.
    pub fn reconcile(
        &mut self,
        key: Pubkey,
        node: &mut Node,
        slot: u64,
        change: Change,
    ) -> Result<()> {
        self.roll(slot);
        let belongs = node.in_draw();
        let index = node.pool_index;
        match (belongs, index == NO_INDEX) {
            (true, true) => {
                let i = self.allocate()?;
                let epoch = self.epoch_of(slot);
                let entry = &mut self.entries[i as usize];
                *entry = PoolEntry::EMPTY;
                entry.node = key;
                entry.live = 1;
                entry.joined_epoch = epoch;
                entry.changed_slot = slot;
                entry.refresh(node);
                self.total_weight = self
                    .total_weight
                    .checked_add(node.stake)
                    .ok_or(ConcordError::MathOverflow)?;
                self.count += 1;
                node.pool_index = i;
            }
            (true, false) => {
                let entry = self.entry_mut(index, &key)?;
                let old = entry.weight;
                entry.refresh(node);
                if change == Change::Operator {
                    entry.changed_slot = slot;
                }
                self.total_weight = self
                    .total_weight
                    .checked_sub(old)
                    .and_then(|t| t.checked_add(node.stake))
                    .ok_or(ConcordError::MathOverflow)?;
            }
            (false, false) => {
                let weight = self.entry_mut(index, &key)?.weight;
                self.total_weight = self
                    .total_weight
                    .checked_sub(weight)
                    .ok_or(ConcordError::MathOverflow)?;
                // The freed entry keeps the node's key (a draw that picks it from an older
                // snapshot reports whom it skipped) until the index is reused.
                let entry = &mut self.entries[index as usize];
                entry.live = 0;
                entry.weight = 0;
                entry.locked = 0;
                entry.next_free = self.free_head;
                self.free_head = index;
                self.count -= 1;
                node.pool_index = NO_INDEX;
            }
            (false, true) => {}
        }
        Ok(())
    }

    fn allocate(&mut self) -> Result<u32> {
        if self.free_head != NO_INDEX {
            let i = self.free_head;
            self.free_head = self.entries[i as usize].next_free;
            return Ok(i);
        }
        require!((self.len as usize) < POOL_CAPACITY, ConcordError::PoolFull);
        self.len += 1;
        Ok(self.len - 1)
    }

    /// The live entry at `index`, which must belong to `key`.
    pub fn entry_mut(&mut self, index: u32, key: &Pubkey) -> Result<&mut PoolEntry> {
        let entry = self
            .entries
            .get_mut(index as usize)
            .ok_or(ConcordError::PoolEntryMismatch)?;
        require!(
            entry.is_live() && entry.node == *key,
            ConcordError::PoolEntryMismatch
        );
        Ok(entry)
    }

    /// A zeroed pool on the heap (it is too large for a thread's stack).
    pub fn new_boxed() -> Box<Pool> {
        bytemuck::zeroed_box()
    }

    /// Decodes a pool account's data (discriminator included), as clients fetch it.
    pub fn from_account_data(data: &[u8]) -> Option<Box<Pool>> {
        use anchor_lang::Discriminator;
        if data.len() < Self::SIZE || data[..8] != *Pool::DISCRIMINATOR {
            return None;
        }
        let mut pool = Self::new_boxed();
        bytemuck::bytes_of_mut(&mut *pool).copy_from_slice(&data[8..Self::SIZE]);
        Some(pool)
    }

    // ----- Fenwick trees ------------------------------------------------------------------

    /// Adds `delta` (two's complement for a removal) at entry `index` of snapshot `b`.
    pub fn tree_add(&mut self, b: usize, index: usize, delta: u64) {
        let tree = &mut self.trees[b];
        let mut i = index + 1;
        while i <= POOL_CAPACITY {
            tree[i - 1] = tree[i - 1].wrapping_add(delta);
            i += i & i.wrapping_neg();
        }
    }

    /// Σ of the first `n` weights of snapshot `b`.
    pub fn tree_prefix(&self, b: usize, n: usize) -> u64 {
        let tree = &self.trees[b];
        let (mut i, mut sum) = (n, 0u64);
        while i > 0 {
            sum = sum.wrapping_add(tree[i - 1]);
            i &= i - 1;
        }
        sum
    }

    /// Weight of entry `index` in snapshot `b`.
    pub fn tree_weight(&self, b: usize, index: usize) -> u64 {
        self.tree_prefix(b, index + 1)
            .wrapping_sub(self.tree_prefix(b, index))
    }

    /// The entry whose cumulative weight range in snapshot `b` contains `target` (which must be
    /// below the snapshot's remaining total): the largest `i` with prefix(i) ≤ target. O(log P).
    pub fn tree_find(&self, b: usize, mut target: u64) -> usize {
        let tree = &self.trees[b];
        let mut pos = 0usize;
        let mut step = POOL_CAPACITY;
        while step > 0 {
            let next = pos + step;
            if next <= POOL_CAPACITY && tree[next - 1] <= target {
                pos = next;
                target -= tree[next - 1];
            }
            step >>= 1;
        }
        pos
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::state::{NodeSpec, NodeStatus};

    pub(crate) fn boxed_pool(epoch_slots: u64) -> Box<Pool> {
        let mut pool = Pool::new_boxed();
        pool.init(Pubkey::new_unique(), epoch_slots, 0);
        pool
    }

    /// An available, active node with `stake`, a GPU spec and no seats.
    pub(crate) fn node(stake: u64) -> Node {
        let spec = NodeSpec {
            gpu_model: String::new(),
            vram_mib: 16_384,
            compute_capability: 80,
            backends: crate::constants::BACKEND_ALL,
        };
        Node::new(
            Pubkey::default(),
            Pubkey::new_unique(),
            spec,
            stake,
            0,
            0,
            0,
        )
    }

    #[test]
    fn layout_is_packed_and_sized() {
        assert_eq!(std::mem::size_of::<PoolEntry>(), 96);
        assert_eq!(
            Pool::SIZE,
            8 + 96 + 96 * POOL_CAPACITY + 2 * 8 * POOL_CAPACITY
        );
        assert_eq!(Pool::SIZE, 114_792);
    }

    #[test]
    fn membership_follows_the_node() {
        let mut pool = boxed_pool(10);
        let keys: Vec<Pubkey> = (0..3).map(|_| Pubkey::new_unique()).collect();
        let mut nodes: Vec<Node> = [10, 20, 30].iter().map(|s| node(*s)).collect();
        for (k, n) in keys.iter().zip(nodes.iter_mut()) {
            pool.reconcile(*k, n, 1, Change::Operator).unwrap();
        }
        assert_eq!((pool.count, pool.total_weight), (3, 60));
        assert_eq!(nodes[1].pool_index, 1);
        // Leaving frees the index; the next join reuses it.
        nodes[1].available = false;
        pool.reconcile(keys[1], &mut nodes[1], 2, Change::Operator)
            .unwrap();
        assert_eq!((pool.count, pool.total_weight), (2, 40));
        assert_eq!(nodes[1].pool_index, NO_INDEX);
        let k = Pubkey::new_unique();
        let mut n = node(5);
        pool.reconcile(k, &mut n, 3, Change::Operator).unwrap();
        assert_eq!(n.pool_index, 1);
        assert_eq!(pool.len, 3);
        // Refresh: a slash lowers the weight without touching changed_slot.
        nodes[2].stake = 25;
        pool.reconcile(keys[2], &mut nodes[2], 4, Change::Protocol)
            .unwrap();
        assert_eq!(pool.entries[2].weight, 25);
        assert_eq!(pool.entries[2].changed_slot, 1);
        assert_eq!(pool.total_weight, 40);
        // Unbonding leaves the pool too.
        nodes[0].status = NodeStatus::Unbonding {
            since: 0,
            withdrawable_at: 1,
        };
        pool.reconcile(keys[0], &mut nodes[0], 5, Change::Operator)
            .unwrap();
        assert_eq!((pool.count, pool.total_weight), (2, 30));
        // A mismatched key is refused.
        let err = pool.reconcile(Pubkey::new_unique(), &mut nodes[2], 6, Change::Protocol);
        assert!(err.is_err());
    }

    #[test]
    fn the_pool_holds_its_capacity_and_refuses_one_more() {
        let mut pool = boxed_pool(10);
        for _ in 0..POOL_CAPACITY {
            let mut n = node(1);
            pool.reconcile(Pubkey::new_unique(), &mut n, 1, Change::Operator)
                .unwrap();
        }
        let mut n = node(1);
        let err = pool
            .reconcile(Pubkey::new_unique(), &mut n, 1, Change::Operator)
            .unwrap_err();
        assert_eq!(err, ConcordError::PoolFull.into());
        assert_eq!(n.pool_index, NO_INDEX);
    }

    #[test]
    fn snapshots_are_taken_once_per_epoch_before_changes() {
        let mut pool = boxed_pool(10);
        let (k, mut n) = (Pubkey::new_unique(), node(7));
        pool.reconcile(k, &mut n, 3, Change::Operator).unwrap(); // epoch 0
        let b0 = pool.snapshot_of(0).unwrap();
        assert_eq!(
            pool.snapshot_total[b0], 0,
            "epoch 0's snapshot predates the join"
        );
        pool.roll(12); // epoch 1
        let b1 = pool.snapshot_of(1).unwrap();
        assert_eq!(pool.snapshot_total[b1], 7);
        assert_eq!(pool.tree_weight(b1, 0), 7);
        // A change in epoch 1 leaves epoch 1's snapshot alone.
        n.stake = 100;
        pool.reconcile(k, &mut n, 15, Change::Operator).unwrap();
        assert_eq!(pool.tree_weight(b1, 0), 7);
        assert!(
            pool.snapshot_of(0).is_some(),
            "epoch 0 is kept through epoch 1"
        );
        pool.roll(25); // epoch 2 replaces epoch 0
        assert!(pool.snapshot_of(0).is_none());
        assert_eq!(pool.tree_weight(pool.snapshot_of(2).unwrap(), 0), 100);
    }

    #[test]
    fn fenwick_matches_a_linear_scan() {
        let mut pool = boxed_pool(1);
        let mut weights = vec![0u64; POOL_CAPACITY];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for w in weights.iter_mut().take(700) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x.is_multiple_of(5) {
                // A node joins and leaves first: the next join reuses its index.
                let (k, mut n) = (Pubkey::new_unique(), node(3));
                pool.reconcile(k, &mut n, 0, Change::Operator).unwrap();
                n.available = false;
                pool.reconcile(k, &mut n, 0, Change::Operator).unwrap();
            }
            *w = x % 1_000;
            let mut n = node(*w);
            pool.reconcile(Pubkey::new_unique(), &mut n, 0, Change::Operator)
                .unwrap();
        }
        pool.roll(1);
        let b = pool.snapshot_of(1).unwrap();
        let total: u64 = weights.iter().sum();
        assert_eq!(pool.snapshot_total[b], total);
        assert_eq!(pool.tree_prefix(b, POOL_CAPACITY), total);
        for probe in (0..total).step_by(97) {
            let mut acc = 0;
            let expected = weights
                .iter()
                .position(|w| {
                    acc += w;
                    acc > probe
                })
                .unwrap();
            assert_eq!(pool.tree_find(b, probe), expected, "target {probe}");
        }
        for i in [0, 1, 5, 511, 512, 699, 1023] {
            assert_eq!(pool.tree_weight(b, i), weights[i]);
        }
        // Removal and restoration through two's complement deltas.
        pool.tree_add(b, 5, weights[5].wrapping_neg());
        assert_eq!(pool.tree_weight(b, 5), 0);
        pool.tree_add(b, 5, weights[5]);
        assert_eq!(pool.tree_prefix(b, POOL_CAPACITY), total);
    }
}
