// The official TypeScript clients against `concord localnet`, written as for a real validator:
// nothing here knows it is not solana-test-validator. Run by scripts/test.sh with CONCORD_BIN set
// to the built `concord` binary.
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import * as anchor from "@anchor-lang/core";
import {
  createAssociatedTokenAccountIdempotent,
  getAccount,
  getAssociatedTokenAddressSync,
  transfer as splTransfer,
} from "@solana/spl-token";
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SystemProgram,
  Transaction,
  sendAndConfirmTransaction,
} from "@solana/web3.js";

import {
  address,
  airdropFactory,
  appendTransactionMessageInstruction,
  createSolanaRpc,
  createSolanaRpcSubscriptions,
  createTransactionMessage,
  fetchEncodedAccount,
  generateKeyPairSigner,
  getSignatureFromTransaction,
  lamports,
  pipe,
  sendAndConfirmTransactionFactory,
  setTransactionMessageFeePayerSigner,
  setTransactionMessageLifetimeUsingBlockhash,
  signTransactionMessageWithSigners,
} from "@solana/kit";
import { getTransferSolInstruction } from "@solana-program/system";

// bn.js comes through the CommonJS default export when Anchor is imported as ESM.
const { BN } = anchor.default;
const BIN = process.env.CONCORD_BIN;
const PORT = Number(process.env.CONCORD_TS_PORT ?? 18_999);
const URL = `http://127.0.0.1:${PORT}`;
const ROOT = path.resolve(import.meta.dirname, "../..");
const IDL = JSON.parse(fs.readFileSync(path.join(ROOT, "idl/concord.json"), "utf8"));

let node;
let dir;
let info;
let connection;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const keypair = (p) => Keypair.fromSecretKey(Uint8Array.from(JSON.parse(fs.readFileSync(p, "utf8"))));
const within = (p, ms, what) =>
  Promise.race([p, sleep(ms).then(() => assert.fail(`no ${what} within ${ms} ms`))]);

before(async () => {
  assert.ok(BIN, "set CONCORD_BIN to the concord binary");
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-ts-"));
  node = spawn(BIN, ["localnet", "--rpc-port", String(PORT), "--data-dir", dir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const summary = path.join(dir, "localnet.json");
  for (let i = 0; i < 600 && !fs.existsSync(summary); i++) await sleep(100);
  assert.ok(fs.existsSync(summary), "localnet did not come up within 60 s");
  // Readiness the way test tooling checks it.
  const health = await fetch(`${URL}/health`, { method: "HEAD" });
  assert.equal(health.status, 200);
  info = JSON.parse(fs.readFileSync(summary, "utf8"));
  connection = new Connection(URL, "confirmed");
});

after(async () => {
  node?.kill("SIGINT");
  await sleep(200);
  fs.rmSync(dir, { recursive: true, force: true });
  // Subscriptions keep the socket open; let the process end.
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
});

async function funded() {
  const kp = Keypair.generate();
  const sig = await connection.requestAirdrop(kp.publicKey, 10 * LAMPORTS_PER_SOL);
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  await connection.confirmTransaction({ signature: sig, blockhash, lastValidBlockHeight });
  return kp;
}

test("web3.js: version, send-and-confirm, onAccountChange, onLogs, history, parsed accounts", async () => {
  const version = await connection.getVersion();
  assert.equal(typeof version["feature-set"], "number");
  const alice = await funded();
  const bob = Keypair.generate().publicKey;
  const changed = new Promise((resolve) => connection.onAccountChange(bob, resolve, "confirmed"));
  const logged = new Promise((resolve) => connection.onLogs(bob, resolve, "confirmed"));
  const slotSeen = new Promise((resolve) => {
    const id = connection.onSlotChange((s) => {
      connection.removeSlotChangeListener(id);
      resolve(s);
    });
  });
  await sleep(300); // let the subscriptions reach the server before the transfer lands
  const tx = new Transaction().add(
    SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob, lamports: LAMPORTS_PER_SOL }),
  );
  const sig = await sendAndConfirmTransaction(connection, tx, [alice]);
  const account = await within(changed, 10_000, "account notification");
  assert.equal(account.lamports, LAMPORTS_PER_SOL);
  const logs = await within(logged, 10_000, "logs notification");
  assert.equal(logs.signature, sig);
  assert.equal(logs.logs[0], "Program 11111111111111111111111111111111 invoke [1]");
  assert.ok((await within(slotSeen, 10_000, "slot notification")).slot > 0);

  const history = await connection.getSignaturesForAddress(bob);
  assert.equal(history[0].signature, sig);
  const parsed = await connection.getParsedTransaction(sig, { maxSupportedTransactionVersion: 0 });
  assert.equal(parsed.transaction.message.instructions[0].parsed.type, "transfer");
  const mint = await connection.getParsedAccountInfo(new PublicKey(info.mint));
  assert.equal(mint.value.data.parsed.type, "mint");
  const epoch = await connection.getEpochInfo();
  assert.ok(epoch.absoluteSlot > 0);
  const fees = await connection.getRecentPrioritizationFees();
  assert.ok(Array.isArray(fees));
  // A blockhash a human would sign with later is still good many slots on.
  const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
  assert.ok(lastValidBlockHeight >= (await connection.getBlockHeight()) + 140);
  await sleep(4_000);
  assert.ok((await connection.isBlockhashValid(blockhash)).value);
});

test("@solana/kit: airdrop, send-and-confirm over subscriptions, account notifications, program accounts, history", async () => {
  const rpc = createSolanaRpc(URL);
  const rpcSubscriptions = createSolanaRpcSubscriptions(`ws://127.0.0.1:${PORT + 1}`);
  const version = await rpc.getVersion().send();
  assert.equal(typeof version["solana-core"], "string");
  assert.equal(typeof version["feature-set"], "number");

  // airdropFactory confirms through signatureNotifications.
  const payer = await generateKeyPairSigner();
  const recipient = await generateKeyPairSigner();
  await airdropFactory({ rpc, rpcSubscriptions })({
    recipientAddress: payer.address,
    lamports: lamports(2_000_000_000n),
    commitment: "confirmed",
  });
  assert.equal((await rpc.getBalance(payer.address, { commitment: "confirmed" }).send()).value, 2_000_000_000n);

  // The recipient's account change arrives as a notification while the transfer confirms.
  const abort = new AbortController();
  const notifications = await rpcSubscriptions
    .accountNotifications(recipient.address, { commitment: "confirmed", encoding: "base64" })
    .subscribe({ abortSignal: abort.signal });
  const changed = (async () => {
    for await (const n of notifications) return n;
  })();
  const { value: latestBlockhash } = await rpc.getLatestBlockhash({ commitment: "confirmed" }).send();
  const message = pipe(
    createTransactionMessage({ version: 0 }),
    (m) => setTransactionMessageFeePayerSigner(payer, m),
    (m) => setTransactionMessageLifetimeUsingBlockhash(latestBlockhash, m),
    (m) =>
      appendTransactionMessageInstruction(
        getTransferSolInstruction({ source: payer, destination: recipient.address, amount: lamports(1_000_000n) }),
        m,
      ),
  );
  const signed = await signTransactionMessageWithSigners(message);
  await sendAndConfirmTransactionFactory({ rpc, rpcSubscriptions })(signed, { commitment: "confirmed" });
  const signature = getSignatureFromTransaction(signed);
  const note = await within(changed, 15_000, "accountNotification");
  abort.abort();
  assert.equal(note.value.lamports, 1_000_000n);

  // History: the v0 transaction by signature and by address.
  const tx = await rpc
    .getTransaction(signature, { commitment: "confirmed", maxSupportedTransactionVersion: 0, encoding: "json" })
    .send();
  assert.equal(tx.meta.err, null);
  assert.equal(tx.version, 0);
  const sigs = await rpc.getSignaturesForAddress(recipient.address, { commitment: "confirmed" }).send();
  assert.deepEqual(sigs.map((s) => s.signature), [signature]);

  // The Concord market through getProgramAccounts (memcmp on Anchor's discriminator) and
  // fetchEncodedAccount.
  const programId = address(IDL.address);
  const discriminator = Buffer.from(IDL.accounts.find((a) => a.name === "Market").discriminator);
  const markets = await rpc
    .getProgramAccounts(programId, {
      commitment: "confirmed",
      encoding: "base64",
      filters: [{ memcmp: { offset: 0n, bytes: discriminator.toString("base64"), encoding: "base64" } }],
    })
    .send();
  assert.deepEqual(markets.map((m) => m.pubkey), [info.market]);
  const market = await fetchEncodedAccount(rpc, address(info.market));
  assert.ok(market.exists);
  assert.equal(market.programAddress, programId);
});

test("spl-token: ATAs, transfers, parsed token accounts", async () => {
  const buyer = keypair(info.buyer_keypair);
  const mint = new PublicKey(info.mint);
  const from = getAssociatedTokenAddressSync(mint, buyer.publicKey);
  const before = await getAccount(connection, from);
  const carol = Keypair.generate().publicKey;
  const to = await createAssociatedTokenAccountIdempotent(connection, buyer, mint, carol);
  await splTransfer(connection, buyer, from, to, buyer, 1_000_000n);
  assert.equal((await getAccount(connection, to)).amount, 1_000_000n);
  assert.equal((await getAccount(connection, from)).amount, before.amount - 1_000_000n);
  const owned = await connection.getParsedTokenAccountsByOwner(carol, { mint });
  assert.equal(owned.value[0].account.data.parsed.info.tokenAmount.uiAmount, 1);
  const supply = await connection.getTokenSupply(mint);
  assert.equal(supply.value.decimals, info.decimals);
});

test("@anchor-lang/core: .rpc() through a whole job, events through addEventListener, account.all(), errors by name, .simulate()", async () => {
  const operator = keypair(info.operator_keypairs[0]);
  const buyer = keypair(info.buyer_keypair);
  const provider = (kp) =>
    new anchor.AnchorProvider(connection, new anchor.Wallet(kp), { commitment: "confirmed" });
  const asOperator = new anchor.Program(IDL, provider(operator));
  const asBuyer = new anchor.Program(IDL, provider(buyer));

  const markets = await asOperator.account.market.all();
  assert.equal(markets.length, 1);
  const market = markets[0];
  assert.equal(market.publicKey.toBase58(), info.market);
  const mint = new PublicKey(info.mint);
  const common = {
    market: market.publicKey,
    pool: market.account.pool,
    vault: market.account.vault,
    mint,
    tokenProgram: new PublicKey(info.token_program),
  };
  const [nodeAddress] = PublicKey.findProgramAddressSync(
    [Buffer.from("node"), market.publicKey.toBuffer(), operator.publicKey.toBuffer()],
    asOperator.programId,
  );

  // A node registers through .rpc(); its event arrives through addEventListener.
  const registered = new Promise((resolve) => {
    const id = asOperator.addEventListener("nodeRegistered", (event, slot, signature) => {
      asOperator.removeEventListener(id);
      resolve({ event, slot, signature });
    });
  });
  await sleep(300);
  const unit = 10n ** BigInt(info.decimals);
  const sig = await asOperator.methods
    .registerNode(
      { gpuModel: "NVIDIA H100 80GB HBM3", vramMib: 81_559, computeCapability: 90, backends: 3 },
      new BN((200n * unit).toString()),
      new BN(0),
    )
    .accountsPartial({
      ...common,
      operator: operator.publicKey,
      operatorToken: getAssociatedTokenAddressSync(mint, operator.publicKey),
    })
    .rpc();
  const got = await within(registered, 15_000, "nodeRegistered event");
  assert.equal(got.signature, sig);
  assert.equal(got.event.operator.toBase58(), operator.publicKey.toBase58());
  const nodes = await asOperator.account.node.all();
  assert.ok(nodes.some((n) => n.account.operator.equals(operator.publicKey)));

  // .simulate() decodes the events of a simulated instruction.
  const sim = await asOperator.methods
    .setAsk(new BN(5))
    .accountsPartial({
      operator: operator.publicKey,
      market: common.market,
      pool: common.pool,
      node: nodeAddress,
    })
    .simulate();
  assert.ok(sim.events.some((e) => e.name === "nodeAskSet"), JSON.stringify(sim.events));

  // A program error comes back by name.
  await assert.rejects(
    asOperator.methods
      .setPaused(true)
      .accountsPartial({ authority: operator.publicKey, market: common.market })
      .rpc(),
    (e) => {
      assert.ok(e instanceof anchor.AnchorError, `${e}`);
      assert.equal(typeof e.error.errorCode.code, "string");
      assert.ok(e.logs.some((l) => l.startsWith("Program log: AnchorError")), e.logs.join("\n"));
      return true;
    },
  );

  // A buyer creates a job through .rpc(); JobCreated arrives; the job is listed.
  const created = new Promise((resolve) => {
    const id = asBuyer.addEventListener("jobCreated", (event) => {
      asBuyer.removeEventListener(id);
      resolve(event);
    });
  });
  await sleep(300);
  const input = new Uint8Array(2 * 2 * 4 * 2); // A and B of a 2×2×2 matmul, zeros
  const params = new Uint8Array(12);
  new DataView(params.buffer).setUint32(0, 2, true);
  new DataView(params.buffer).setUint32(4, 2, true);
  new DataView(params.buffer).setUint32(8, 2, true);
  const buyerToken = getAssociatedTokenAddressSync(mint, buyer.publicKey);
  // An N = 1 matmul of the zeros above.
  const createJob = () =>
    asBuyer.methods
      .createJob({
        kernel: 1,
        params: Buffer.from(params),
        inputUri: `inline:${Buffer.from(input).toString("base64")}`,
        inputDigest: [...createHash("sha256").update(input).digest()],
        requirements: { minVramMib: 0, minComputeCapability: 0, backends: 3, minAgreed: 0, maxFaultBps: 10_000 },
        replication: 1,
        quorum: 1,
        rewardPerWorker: new BN(unit.toString()),
        feeBps: market.account.params.feeBps,
      })
      .accountsPartial({ ...common, buyer: buyer.publicKey, buyerToken })
      .rpc();
  await createJob();
  const job = await within(created, 15_000, "jobCreated event");
  const jobs = await asBuyer.account.job.all();
  assert.ok(jobs.some((j) => j.publicKey.equals(job.job)));

  // The whole lifecycle through .rpc(), events through addEventListener. Once the node is in the
  // draw (the pool's next epoch), a job of N = 1 draws it; the seat holder's commit also draws
  // the committee (no crank needed), its reveal completes the set and settles the job.
  const epochSlots = Number(market.account.params.drawHorizonSlots.toString());
  const boundary = (Math.floor((await connection.getSlot()) / epochSlots) + 1) * epochSlots;
  while ((await connection.getSlot()) < boundary) await sleep(200);
  const { nextJobId } = await asBuyer.account.market.fetch(market.publicKey);
  const idBytes = Buffer.alloc(8);
  idBytes.writeBigUInt64LE(BigInt(nextJobId.toString()));
  const [jobAddress] = PublicKey.findProgramAddressSync(
    [Buffer.from("job"), market.publicKey.toBuffer(), idBytes],
    asBuyer.programId,
  );
  const next = (name) =>
    new Promise((resolve) => {
      const id = asBuyer.addEventListener(name, (event, _slot, signature) => {
        if (!event.job.equals(jobAddress)) return;
        asBuyer.removeEventListener(id);
        resolve({ event, signature });
      });
    });
  const drawn = next("jobDrawn");
  const committed = next("resultCommitted");
  const revealed = next("resultRevealed");
  const finalized = next("jobFinalized");
  await sleep(300);
  const tokensBefore = (await getAccount(connection, buyerToken)).amount;
  await createJob();
  const createdSlot = Number((await asBuyer.account.job.fetch(jobAddress)).createdSlot.toString());
  while ((await connection.getSlot()) <= createdSlot) await sleep(100);

  // The node computes A·B (2×2×2 zeros: 16 zero bytes out) and commits to its digest, salted.
  const output = new Uint8Array(2 * 2 * 4);
  const digest = createHash("sha256").update(output).digest();
  const salt = createHash("sha256").update("ts-test-salt").digest();
  const commitment = createHash("sha256")
    .update(Buffer.from("concord-commit-v2"))
    .update(jobAddress.toBuffer())
    .update(nodeAddress.toBuffer())
    .update(digest)
    .update(salt)
    .digest();
  const seat = {
    operator: operator.publicKey,
    market: common.market,
    pool: common.pool,
    node: nodeAddress,
    job: jobAddress,
  };
  const commitSig = await asOperator.methods
    .commitResult([...commitment])
    .accountsPartial({ ...seat, slotHashes: anchor.web3.SYSVAR_SLOT_HASHES_PUBKEY })
    .rpc();
  const draw = await within(drawn, 15_000, "jobDrawn event");
  assert.equal(draw.signature, commitSig, "the first commit drew the committee");
  assert.deepEqual(draw.event.seats.map((s) => s.toBase58()), [nodeAddress.toBase58()]);
  assert.equal((await within(committed, 15_000, "resultCommitted event")).signature, commitSig);
  const assigned = await asBuyer.account.job.fetch(jobAddress);
  // Every seat has committed: the job is open for reveals.
  assert.ok("revealing" in assigned.state, JSON.stringify(assigned.state));

  const revealSig = await asOperator.methods
    .revealResult([...digest], [...salt], "https://node.example/out/0.bin")
    .accountsPartial({
      ...seat,
      vault: common.vault,
      mint,
      refundAccount: assigned.refundAccount,
      tokenProgram: common.tokenProgram,
    })
    .rpc();
  const shown = await within(revealed, 15_000, "resultRevealed event");
  assert.equal(shown.signature, revealSig);
  assert.deepEqual([...shown.event.digest], [...digest]);
  const done = await within(finalized, 15_000, "jobFinalized event");
  assert.equal(done.signature, revealSig, "the reveal that completes the set settles the job");
  assert.ok("settled" in done.event.state, JSON.stringify(done.event.state));
  assert.deepEqual([...done.event.acceptedDigest], [...digest]);
  assert.equal(done.event.paid.toString(), unit.toString());
  const settled = await asBuyer.account.job.fetch(jobAddress);
  assert.ok("settled" in settled.state);
  // The buyer paid the reward and the fee; whatever was escrowed beyond that came back.
  const spent = BigInt(done.event.paid.toString()) + BigInt(done.event.fee.toString());
  assert.equal((await getAccount(connection, buyerToken)).amount, tokensBefore - spent);
});
