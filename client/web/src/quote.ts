// Live quotes and the collusion estimate, from the pool as the program draws from it: the same
// eligibility rules as `draw::ineligibility` and `concord job quote` (client/src/draw.rs).
import type { MarketView, PoolEntry, PoolView } from "./chain";

export const WORK_UNIT_SCALE = 1_000_000_000n;
const BPS = 10_000n;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

export interface Requirements {
  minVramMib: number;
  minComputeCapability: number;
  backends: number;
  minAgreed: number;
  maxFaultBps: number;
}

export interface Quote {
  workUnits: bigint;
  price: bigint;
  collateral: bigint;
  eligible: PoolEntry[];
  eligibleStake: bigint;
  poolNodes: number;
  poolStake: bigint;
}

const ceilDiv = (a: bigint, b: bigint) => (a + b - 1n) / b;

export function price(reward: bigint, workUnits: bigint): bigint {
  const p = (reward * WORK_UNIT_SCALE) / (workUnits > 0n ? workUnits : 1n);
  return p > U64_MAX ? U64_MAX : p;
}

export function collateralFor(market: MarketView, reward: bigint): bigint {
  const scaled = ceilDiv(reward * market.collateralBps, BPS);
  return scaled > market.minCollateral ? scaled : market.minCollateral;
}

export function fee(market: MarketView, reward: bigint, n: number): bigint {
  return ceilDiv(reward * BigInt(n) * BigInt(market.feeBps), BPS);
}

function eligible(e: PoolEntry, epoch: bigint, req: Requirements, p: bigint, collateral: bigint, minStake: bigint): boolean {
  if (!e.live || e.joinedEpoch >= epoch) return false;
  if (e.vramMib < req.minVramMib || e.computeCapability < req.minComputeCapability || (e.backends & req.backends) === 0) {
    return false;
  }
  if (e.ask > p) return false;
  const settled = BigInt(e.agreed) + BigInt(e.faults);
  if (e.agreed < req.minAgreed || BigInt(e.faults) * BPS > BigInt(req.maxFaultBps) * settled) return false;
  if (e.weight < minStake) return false;
  const free = e.weight > e.locked ? e.weight - e.locked : 0n;
  return free >= collateral;
}

/** The nodes a job created at `slot` could draw at this reward. */
export function quote(
  pool: PoolView,
  slot: bigint,
  market: MarketView,
  workUnits: bigint,
  req: Requirements,
  reward: bigint,
): Quote {
  const p = price(reward, workUnits);
  const collateral = collateralFor(market, reward);
  const epoch = slot / (pool.epochSlots > 0n ? pool.epochSlots : 1n);
  const live = pool.entries.filter((e) => e.live);
  const ok = live.filter((e) => eligible(e, epoch, req, p, collateral, market.minStake));
  return {
    workUnits,
    price: p,
    collateral,
    eligible: ok,
    eligibleStake: ok.reduce((s, e) => s + e.weight, 0n),
    poolNodes: live.length,
    poolStake: live.reduce((s, e) => s + e.weight, 0n),
  };
}

/** The smallest reward per worker at which at least `target` nodes are eligible, or null. */
export function rewardForTarget(
  pool: PoolView,
  slot: bigint,
  market: MarketView,
  workUnits: bigint,
  req: Requirements,
  target: number,
): bigint | null {
  const asks = [...new Set(pool.entries.filter((e) => e.live).map((e) => e.ask))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const ask of asks) {
    let r = ceilDiv(ask * workUnits, WORK_UNIT_SCALE);
    if (r < 1n) r = 1n;
    if (r > U64_MAX) continue;
    if (quote(pool, slot, market, workUnits, req, r).eligible.length >= target) return r;
  }
  return null;
}

/** P[Bin(n, f) ≥ q]: a coalition with stake share f over many small identities. */
export function binomialTail(n: number, q: number, f: number): number {
  let total = 0;
  for (let k = q; k <= n; k++) total += choose(n, k) * f ** k * (1 - f) ** (n - k);
  return Math.min(1, total);
}

function choose(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
  return c;
}

/**
 * The probability that the `coalition` largest eligible nodes together hold at least q of the
 * n seats, when seats are drawn one at a time, weighted by stake, without replacement (as the
 * program draws). Monte Carlo with a fixed seed, so the page shows the same figure each time.
 */
export function coalitionCapture(weights: number[], coalition: number, n: number, q: number, trials = 20_000): number {
  if (weights.length < n || coalition < q) return 0;
  const sorted = [...weights].sort((a, b) => b - a);
  let seed = 0x9e3779b9;
  const rand = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 4294967296;
  };
  let hits = 0;
  for (let t = 0; t < trials; t++) {
    const left = sorted.slice();
    let total = left.reduce((a, b) => a + b, 0);
    let bad = 0;
    for (let s = 0; s < n; s++) {
      let x = rand() * total;
      let i = 0;
      while (i < left.length - 1 && x >= left[i]) x -= left[i++];
      // The coalition is the original top `coalition` entries; track by marking with negatives.
      if (i < coalition && left[i] > 0) bad++;
      total -= left[i];
      left[i] = 0;
    }
    if (bad >= q) hits++;
  }
  return hits / trials;
}
