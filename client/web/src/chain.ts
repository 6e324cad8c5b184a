// Everything the page reads from and sends to the chain: the Anchor program from the committed
// IDL, the PDAs, typed snapshots of the accounts (amounts as bigints), the pool's zero-copy
// layout, and sending a transaction (simulated first, so a program error is shown by name
// before the wallet is asked to sign).
import {
  AnchorProvider,
  BorshCoder,
  EventParser,
  Program,
  type Idl,
} from "@anchor-lang/core";
import {
  Connection,
  PublicKey,
  Transaction,
  TransactionInstruction,
  VersionedTransaction,
  type Commitment,
} from "@solana/web3.js";

import rawIdl from "../../../idl/concord.json";
import { big } from "./format";
import { ProgramFailure } from "./errors";
import type { ConnectedWallet } from "./wallet";

export const IDL = rawIdl as Idl;
export const COMMITMENT: Commitment = "confirmed";
export const ATA_PROGRAM = new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL");
const enc = new TextEncoder();

/** What `concord web` tells the page at /config.json. */
export interface WebConfig {
  rpcUrl: string;
  wsUrl: string;
  programId: string;
  market: string | null;
  /** Bytes of a job account for N = 1, 2, … (its rent is part of what the buyer pays). */
  jobAccountBytes: number[];
}

export interface MarketView {
  address: PublicKey;
  authority: PublicKey;
  marketId: bigint;
  mint: PublicKey;
  decimals: number;
  tokenProgram: PublicKey;
  vault: PublicKey;
  pool: PublicKey;
  nextJobId: bigint;
  totalStake: bigint;
  totalEscrow: bigint;
  nodeCount: bigint;
  paused: boolean;
  feeBps: number;
  minStake: bigint;
  minCollateral: bigint;
  collateralBps: bigint;
  executionWindow: number;
  revealWindow: number;
  maxReplication: number;
  drawHorizonSlots: bigint;
  maxReassignments: number;
}

export interface NodeView {
  address: PublicKey;
  operator: PublicKey;
  stake: bigint;
  locked: bigint;
  gpuModel: string;
  vramMib: number;
  computeCapability: number;
  backends: number;
  unbonding: boolean;
  available: boolean;
  ask: bigint;
  inPool: boolean;
  assigned: bigint;
  agreed: bigint;
  dissented: bigint;
  missed: bigint;
}

export type JobStateName = "open" | "assigned" | "revealing" | "settled" | "failed" | "expired" | "cancelled";
export type SeatStatusName = "assigned" | "committed" | "revealed" | "paid" | "slashed" | "released";

export interface SeatView {
  node: PublicKey;
  status: SeatStatusName;
  digest: Uint8Array;
  outputUri: string;
}

export interface JobView {
  address: PublicKey;
  market: PublicKey;
  jobId: bigint;
  buyer: PublicKey;
  refundAccount: PublicKey;
  kernel: number;
  params: Uint8Array;
  inputUri: string;
  inputDigest: Uint8Array;
  replication: number;
  quorum: number;
  rewardPerWorker: bigint;
  workUnits: bigint;
  price: bigint;
  fee: bigint;
  escrow: bigint;
  collateralPerSeat: bigint;
  createdAt: number;
  createdSlot: bigint;
  drawHorizonSlots: bigint;
  drawnSlot: bigint;
  commitDeadline: number;
  revealDeadline: number;
  reassignments: number;
  maxReassignments: number;
  state: JobStateName;
  seats: SeatView[];
  backups: PublicKey[];
  acceptedDigest: Uint8Array | null;
  finalizedAt: number;
}

export const TERMINAL: JobStateName[] = ["settled", "failed", "expired", "cancelled"];

/** The enum variant's name of an Anchor-decoded enum (`{ settled: {} }` → "settled"). */
const variant = <T extends string>(e: object): T => Object.keys(e)[0] as T;
const bytes = (v: ArrayLike<number>) => Uint8Array.from(v as ArrayLike<number>);

/* eslint-disable @typescript-eslint/no-explicit-any */
type Raw = any;

export function marketView(address: PublicKey, m: Raw): MarketView {
  return {
    address,
    authority: m.authority,
    marketId: big(m.marketId),
    mint: m.mint,
    decimals: m.mintDecimals,
    tokenProgram: m.tokenProgram,
    vault: m.vault,
    pool: m.pool,
    nextJobId: big(m.nextJobId),
    totalStake: big(m.totalStake),
    totalEscrow: big(m.totalEscrow),
    nodeCount: big(m.nodeCount),
    paused: m.paused,
    feeBps: m.params.feeBps,
    minStake: big(m.params.minStake),
    minCollateral: big(m.params.minCollateral),
    collateralBps: big(m.params.collateralBps),
    executionWindow: Number(m.params.executionWindow.toString()),
    revealWindow: Number(m.params.revealWindow.toString()),
    maxReplication: m.params.maxReplication,
    drawHorizonSlots: big(m.params.drawHorizonSlots),
    maxReassignments: m.params.maxReassignments,
  };
}

export function nodeView(address: PublicKey, n: Raw): NodeView {
  return {
    address,
    operator: n.operator,
    stake: big(n.stake),
    locked: big(n.lockedCollateral),
    gpuModel: n.spec.gpuModel,
    vramMib: n.spec.vramMib,
    computeCapability: n.spec.computeCapability,
    backends: n.spec.backends,
    unbonding: variant(n.status) === "unbonding",
    available: n.available,
    ask: big(n.ask),
    inPool: n.poolIndex !== 0xffff_ffff,
    assigned: big(n.assigned),
    agreed: big(n.agreed),
    dissented: big(n.dissented),
    missed: big(n.missed),
  };
}

export function jobView(address: PublicKey, j: Raw): JobView {
  return {
    address,
    market: j.market,
    jobId: big(j.jobId),
    buyer: j.buyer,
    refundAccount: j.refundAccount,
    kernel: j.kernel,
    params: bytes(j.params),
    inputUri: j.inputUri,
    inputDigest: bytes(j.inputDigest),
    replication: j.replication,
    quorum: j.quorum,
    rewardPerWorker: big(j.rewardPerWorker),
    workUnits: big(j.workUnits),
    price: big(j.price),
    fee: big(j.fee),
    escrow: big(j.escrow),
    collateralPerSeat: big(j.collateralPerSeat),
    createdAt: Number(j.createdAt.toString()),
    createdSlot: big(j.createdSlot),
    drawHorizonSlots: big(j.drawHorizonSlots),
    drawnSlot: big(j.drawnSlot),
    commitDeadline: Number(j.commitDeadline.toString()),
    revealDeadline: Number(j.revealDeadline.toString()),
    reassignments: j.reassignments,
    maxReassignments: j.maxReassignments,
    state: variant<JobStateName>(j.state),
    seats: j.seats.map((s: Raw) => ({
      node: s.node,
      status: variant<SeatStatusName>(s.status),
      digest: bytes(s.digest),
      outputUri: s.outputUri,
    })),
    backups: j.backups,
    acceptedDigest: j.acceptedDigest ? bytes(j.acceptedDigest) : null,
    finalizedAt: Number(j.finalizedAt.toString()),
  };
}

/** A pool entry (`state/pool.rs`, `#[repr(C)]`, 96 bytes). */
export interface PoolEntry {
  node: PublicKey;
  weight: bigint;
  locked: bigint;
  ask: bigint;
  joinedEpoch: bigint;
  changedSlot: bigint;
  vramMib: number;
  agreed: number;
  faults: number;
  computeCapability: number;
  backends: number;
  live: boolean;
}

export interface PoolView {
  epochSlots: bigint;
  totalWeight: bigint;
  entries: PoolEntry[];
}

/** The pool's header (8-byte discriminator + 96 bytes) and entries, read with a data slice. */
const POOL_HEADER = 104;
const POOL_ENTRY = 96;
const POOL_CAPACITY = 1024;

export function decodePool(data: Uint8Array): PoolView {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u64 = (o: number) => v.getBigUint64(o, true);
  const len = v.getUint32(8 + 80, true);
  const entries: PoolEntry[] = [];
  for (let i = 0; i < len && POOL_HEADER + (i + 1) * POOL_ENTRY <= data.length; i++) {
    const o = POOL_HEADER + i * POOL_ENTRY;
    entries.push({
      node: new PublicKey(data.subarray(o, o + 32)),
      weight: u64(o + 32),
      locked: u64(o + 40),
      ask: u64(o + 48),
      joinedEpoch: u64(o + 56),
      changedSlot: u64(o + 64),
      vramMib: v.getUint32(o + 72, true),
      agreed: v.getUint32(o + 76, true),
      faults: v.getUint32(o + 80, true),
      computeCapability: v.getUint16(o + 88, true),
      backends: v.getUint8(o + 90),
      live: v.getUint8(o + 91) === 1,
    });
  }
  return { epochSlots: u64(8 + 32), totalWeight: u64(8 + 40), entries };
}

/** A read-only wallet for the provider until one is connected (never asked to sign). */
const NO_WALLET = {
  publicKey: PublicKey.default,
  signTransaction: async <T>(): Promise<T> => {
    throw new Error("Connect a wallet first");
  },
  signAllTransactions: async <T>(): Promise<T> => {
    throw new Error("Connect a wallet first");
  },
};

export class Chain {
  readonly connection: Connection;
  readonly program: Program;
  readonly programId: PublicKey;
  readonly events: EventParser;

  constructor(readonly config: WebConfig) {
    this.connection = new Connection(config.rpcUrl, {
      commitment: COMMITMENT,
      wsEndpoint: config.wsUrl,
      disableRetryOnRateLimit: true,
    });
    const idl = { ...IDL, address: config.programId };
    this.program = new Program(idl, new AnchorProvider(this.connection, NO_WALLET, { commitment: COMMITMENT }));
    this.programId = new PublicKey(config.programId);
    // The program's coder: it decodes with the camel-cased IDL (`jobDrawn`, `acceptedDigest`).
    this.events = new EventParser(this.programId, this.program.coder as BorshCoder);
  }

  get accounts(): Raw {
    return this.program.account;
  }

  jobAddress(market: PublicKey, jobId: bigint): PublicKey {
    const id = new Uint8Array(8);
    new DataView(id.buffer).setBigUint64(0, jobId, true);
    return PublicKey.findProgramAddressSync([enc.encode("job"), market.toBytes(), id], this.programId)[0];
  }

  tokenAccount(owner: PublicKey, market: MarketView): PublicKey {
    return PublicKey.findProgramAddressSync(
      [owner.toBytes(), market.tokenProgram.toBytes(), market.mint.toBytes()],
      ATA_PROGRAM,
    )[0];
  }

  async markets(): Promise<MarketView[]> {
    const all = await this.accounts.market.all();
    return all.map((a: Raw) => marketView(a.publicKey, a.account));
  }

  async market(address: PublicKey): Promise<MarketView> {
    const m = await this.accounts.market.fetchNullable(address);
    if (!m) throw new Error(`no Concord market at ${address.toBase58()} on ${this.config.rpcUrl}: check the market address`);
    return marketView(address, m);
  }

  async nodes(market: PublicKey): Promise<NodeView[]> {
    const all = await this.accounts.node.all([{ memcmp: { offset: 8, bytes: market.toBase58() } }]);
    return all.map((a: Raw) => nodeView(a.publicKey, a.account));
  }

  async pool(market: MarketView): Promise<PoolView> {
    const info = await this.connection.getAccountInfo(market.pool, {
      commitment: COMMITMENT,
      dataSlice: { offset: 0, length: POOL_HEADER + POOL_ENTRY * POOL_CAPACITY },
    });
    if (!info) throw new Error(`the market's pool account ${market.pool.toBase58()} does not exist`);
    return decodePool(new Uint8Array(info.data));
  }

  async job(address: PublicKey): Promise<JobView | null> {
    const j = await this.accounts.job.fetchNullable(address);
    return j ? jobView(address, j) : null;
  }

  decodeJob(address: PublicKey, data: Uint8Array): JobView {
    return jobView(address, this.program.coder.accounts.decode("job", Buffer.from(data)));
  }

  /** The buyer's jobs in `market` (program accounts filtered by market and buyer). */
  async jobsOf(market: PublicKey, buyer: PublicKey): Promise<JobView[]> {
    const all = await this.accounts.job.all([
      { memcmp: { offset: 8, bytes: market.toBase58() } },
      { memcmp: { offset: 48, bytes: buyer.toBase58() } },
    ]);
    return all.map((a: Raw) => jobView(a.publicKey, a.account)).sort((a: JobView, b: JobView) => Number(b.jobId - a.jobId));
  }

  /** The last `count` jobs of the market that still have accounts, newest first. */
  async recentJobs(market: MarketView, count: number): Promise<JobView[]> {
    const ids: bigint[] = [];
    for (let id = market.nextJobId - 1n; id >= 0n && ids.length < count; id--) ids.push(id);
    const addresses = ids.map((id) => this.jobAddress(market.address, id));
    const found = await this.accounts.job.fetchMultiple(addresses);
    return found.flatMap((j: Raw, i: number) => (j ? [jobView(addresses[i], j)] : []));
  }

  async tokenBalance(owner: PublicKey, market: MarketView): Promise<bigint | null> {
    const ata = this.tokenAccount(owner, market);
    try {
      const b = await this.connection.getTokenAccountBalance(ata, COMMITMENT);
      return BigInt(b.value.amount);
    } catch (e) {
      if (String(e).includes("could not find account")) return null;
      throw e;
    }
  }

  /** The events in a transaction's logs. */
  parseEvents(logs: string[]): { name: string; data: Raw }[] {
    return [...this.events.parseLogs(logs)];
  }

  /** Simulates `ixs` (no signature needed), has the wallet sign, sends and confirms. */
  async send(wallet: ConnectedWallet, ixs: TransactionInstruction[]): Promise<string> {
    const tx = new Transaction().add(...ixs);
    tx.feePayer = wallet.publicKey;
    const { blockhash, lastValidBlockHeight } = await this.connection.getLatestBlockhash(COMMITMENT);
    tx.recentBlockhash = blockhash;
    const sim = await this.connection.simulateTransaction(new VersionedTransaction(tx.compileMessage()), {
      sigVerify: false,
      commitment: COMMITMENT,
    });
    if (sim.value.err) throw new ProgramFailure(sim.value.err, sim.value.logs ?? []);
    const signed = await wallet.signTransaction(tx);
    const signature = await this.connection.sendRawTransaction(signed.serialize(), {
      preflightCommitment: COMMITMENT,
    });
    const done = await this.connection.confirmTransaction({ signature, blockhash, lastValidBlockHeight }, COMMITMENT);
    if (done.value.err) {
      const meta = await this.connection.getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0 });
      throw new ProgramFailure(done.value.err, meta?.meta?.logMessages ?? []);
    }
    return signature;
  }
}
