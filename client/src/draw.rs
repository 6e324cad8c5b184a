//! The committee draw computed off-chain, with the program's own code
//! ([`concord::draw`]): who holds a job's seats and backups, who was skipped and why, before
//! the draw lands (seat holders need this to send the accounts the draw will lock) and after it
//! (to explain it). Also quotes: how many nodes and how much stake a job would be drawn from at a
//! given reward, and the reward needed for a target number of eligible nodes.

use concord::draw::{self, DrawRules, Skip};
use concord::pricing;
use concord::state::{Job, MarketParams, Pool, Requirements};
use solana_sdk::pubkey::Pubkey;

/// A draw, with pool indices resolved to node accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DrawPreview {
    /// The seed: `sha256("concord-draw-v2" ‖ slot hash ‖ job)`.
    pub seed: [u8; 32],
    /// Seat holders in seat order; fewer than N when the job cannot be staffed.
    pub seats: Vec<Pubkey>,
    /// Backups in draw order.
    pub backups: Vec<Pubkey>,
    /// Picked and passed over, in draw order, with the reason.
    pub skipped: Vec<(Pubkey, Skip)>,
    /// Picks made.
    pub attempts: u32,
}

impl DrawPreview {
    /// Whether the draw finds a node for every seat.
    pub fn is_staffed(&self, replication: u8) -> bool {
        self.seats.len() == usize::from(replication)
    }
}

/// Why no preview can be computed yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotYet {
    /// The job's creation slot has not passed: its hash (the seed) does not exist yet.
    SlotHashUnknown,
    /// The pool no longer keeps the snapshot of the job's epoch (the horizon has passed).
    SnapshotGone,
}

/// The draw of an open `job` (at `job_address`) as the program will compute it, given the
/// pool's current data and the SlotHashes sysvar's data.
pub fn preview(
    pool: &mut Pool,
    job_address: &Pubkey,
    job: &Job,
    slot_hashes: &[u8],
) -> Result<DrawPreview, NotYet> {
    let hash = draw::slot_hash(slot_hashes, job.created_slot).ok_or(NotYet::SlotHashUnknown)?;
    let seed = draw::seed(&hash, job_address);
    let backups = if job.max_reassignments > 0 {
        usize::from(concord::constants::MAX_BACKUPS)
    } else {
        0
    };
    let rules = concord::settlement::draw_rules(job);
    let epoch = pool.epoch_of(job.created_slot);
    let d = draw::draw(
        pool,
        epoch,
        &seed,
        &rules,
        usize::from(job.replication),
        backups,
    )
    .ok_or(NotYet::SnapshotGone)?;
    let key = |i: &u32| pool.entries[*i as usize].node;
    Ok(DrawPreview {
        seed,
        seats: d.seats.iter().map(key).collect(),
        backups: d.backups.iter().map(key).collect(),
        skipped: d.skipped.iter().map(|(i, r)| (key(i), *r)).collect(),
        attempts: d.attempts,
    })
}

/// What a job would be drawn from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Quote {
    /// The job's work units.
    pub work_units: u64,
    /// The price at this reward (base units per 10⁹ work units).
    pub price: u64,
    /// Collateral per seat at this reward.
    pub collateral: u64,
    /// Nodes in the pool that a job created now could draw.
    pub eligible_nodes: u32,
    /// Their stake (the draw's weights).
    pub eligible_stake: u64,
    /// Every node in the pool.
    pub pool_nodes: u32,
    /// Their stake.
    pub pool_stake: u64,
}

/// Counts the nodes of `pool` eligible at `slot` for a job of kernel `kernel` with `params`,
/// `requirements` and `reward` per worker, in a market with `params_of_market`. Nodes that
/// joined in the current pool epoch count only from the next one, as in the draw. `None` if the
/// kernel parameters do not decode.
pub fn quote(
    pool: &Pool,
    slot: u64,
    market: &MarketParams,
    kernel: u8,
    params: &[u8],
    requirements: &Requirements,
    reward: u64,
) -> Option<Quote> {
    let work_units = pricing::work_units(kernel, params)?;
    let price = pricing::price(reward, work_units);
    let collateral = market.collateral_for(reward).ok()?;
    let rules = DrawRules {
        requirements: *requirements,
        price,
        collateral,
        min_stake: market.min_stake,
        created_slot: u64::MAX,
    };
    let epoch = pool.epoch_of(slot);
    let mut q = Quote {
        work_units,
        price,
        collateral,
        ..Quote::default()
    };
    for e in pool.entries.iter().filter(|e| e.is_live()) {
        q.pool_nodes += 1;
        q.pool_stake = q.pool_stake.saturating_add(e.weight);
        if draw::ineligibility(e, epoch, &rules).is_none() {
            q.eligible_nodes += 1;
            q.eligible_stake = q.eligible_stake.saturating_add(e.weight);
        }
    }
    Some(q)
}

/// The smallest reward per worker at which at least `target` nodes are eligible, trying each
/// distinct ask of the pool from the lowest; `None` if no reward gets there.
pub fn reward_for_target(
    pool: &Pool,
    slot: u64,
    market: &MarketParams,
    kernel: u8,
    params: &[u8],
    requirements: &Requirements,
    target: u32,
) -> Option<u64> {
    let work = pricing::work_units(kernel, params)?;
    let mut asks: Vec<u64> = pool
        .entries
        .iter()
        .filter(|e| e.is_live())
        .map(|e| e.ask)
        .collect();
    asks.sort_unstable();
    asks.dedup();
    asks.into_iter()
        .filter_map(|ask| pricing::reward_for_ask(ask, work))
        .map(|r| r.max(1))
        .find(|r| {
            quote(pool, slot, market, kernel, params, requirements, *r)
                .is_some_and(|q| q.eligible_nodes >= target)
        })
}
