// The web app in a real browser: headless Chromium (Debian's package, never downloaded) driven by
// puppeteer-core, a Wallet Standard test wallet injected into the page, `concord localnet
// --workers 3` and `concord web`. It goes through what a buyer does (connect, quote, submit,
// follow the job live, download and verify, close) and through what goes wrong (the wallet
// declines, the RPC goes down), saving a screenshot of each step.
//
// CONCORD_BIN: the `concord` binary. CHROMIUM: the browser [default: /usr/bin/chromium].
// CONCORD_WEB_ARTIFACTS: where screenshots go [default: client/web/test-artifacts].
import test, { after, before } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import anchor from "@anchor-lang/core";
import { Connection, Keypair, PublicKey, SystemProgram, Transaction } from "@solana/web3.js";
import puppeteer from "puppeteer-core";

import { injectWallet, keypairFrom, signer } from "./wallet.mjs";

const BIN = process.env.CONCORD_BIN;
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const ROOT = path.resolve(import.meta.dirname, "..");
const ARTIFACTS = path.resolve(process.env.CONCORD_WEB_ARTIFACTS ?? path.join(ROOT, "test-artifacts"));
const IDL = JSON.parse(fs.readFileSync(path.join(ROOT, "../../idl/concord.json"), "utf8"));
const RPC_PORT = Number(process.env.CONCORD_WEB_TEST_PORT ?? 19_299);
const RPC = `http://127.0.0.1:${RPC_PORT}`;
const LOCALNET_WEB = `http://127.0.0.1:${RPC_PORT + 2}`;
const WEB_PORT = RPC_PORT + 10;
const WEB = `http://127.0.0.1:${WEB_PORT}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let net;
let web;
let dir;
let info;
let browser;
let page;
let buyer;
let connection;
let program;
const wallet = { reject: false, requests: 0 };
let jobAddress;
const shots = [];

async function shot(name) {
  const file = path.join(ARTIFACTS, `${String(shots.length + 1).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  shots.push(file);
}

/** Waits until `fn` (run in the page) returns a truthy value. */
const until = (fn, what, timeout = 60_000, ...args) =>
  page.waitForFunction(fn, { timeout, polling: 200 }, ...args).catch((e) => {
    throw new Error(`${what}: ${e.message}`);
  });

const text = (selector) => page.$eval(selector, (e) => e.innerText);

/** The timeline's events follow the protocol's phases, however many share a slot. */
function assertPhaseOrder(events, where) {
  const phases = ["jobCreated", "jobDrawn", "resultCommitted", "resultRevealed", "seatSettled", "jobFinalized"];
  for (let i = 1; i < phases.length; i++) {
    const [before, after] = [phases[i - 1], phases[i]];
    assert.ok(
      events.lastIndexOf(before) < events.indexOf(after),
      `${where}: every ${before} comes before the first ${after}: ${events.filter((e) => phases.includes(e))}`,
    );
  }
}

before(async () => {
  assert.ok(BIN, "set CONCORD_BIN to the concord binary");
  assert.ok(fs.existsSync(CHROMIUM), `no browser at ${CHROMIUM}: install Debian's chromium or set CHROMIUM`);
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "concord-web-"));
  net = spawn(BIN, ["localnet", "--rpc-port", String(RPC_PORT), "--data-dir", dir, "--workers", "3"], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const summary = path.join(dir, "localnet.json");
  for (let i = 0; i < 900 && !fs.existsSync(summary); i++) await sleep(100);
  assert.ok(fs.existsSync(summary), "localnet did not come up within 90 s");
  info = JSON.parse(fs.readFileSync(summary, "utf8"));
  buyer = keypairFrom(fs.readFileSync(info.buyer_keypair, "utf8"));
  connection = new Connection(RPC, "confirmed");
  program = new anchor.Program(IDL, new anchor.AnchorProvider(connection, new anchor.Wallet(buyer), {}));
  web = spawn(BIN, ["web", "--rpc-url", RPC, "--market", info.market, "--port", String(WEB_PORT)], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`${WEB}/health`).then((r) => r.ok, () => false);
    if (ok) break;
    await sleep(100);
  }
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  page.on("pageerror", (e) => console.error(`page error: ${e.message}`));
  await page.exposeFunction("__testWalletSign", signer(buyer, wallet));
  await page.evaluateOnNewDocument(injectWallet, buyer.publicKey.toBase58(), [...buyer.publicKey.toBytes()]);
  // Layout shifts (Cumulative Layout Shift), summed from the moment the test resets the counter.
  await page.evaluateOnNewDocument(() => {
    window.__cls = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value;
    }).observe({ type: "layout-shift", buffered: true });
  });
});

after(async () => {
  await browser?.close();
  web?.kill("SIGTERM");
  net?.kill("SIGTERM");
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  console.log(`screenshots (${shots.length}) in ${ARTIFACTS}`);
});

test("concord localnet serves the app too, configured for its market", async () => {
  const config = await fetch(`${LOCALNET_WEB}/config.json`).then((r) => r.json());
  assert.equal(config.rpcUrl, RPC);
  assert.equal(config.market, info.market);
  assert.equal(config.programId, info.program_id);
  const html = await fetch(`${LOCALNET_WEB}/`).then((r) => r.text());
  assert.match(html, /<script type="module" src="app.js">/);
  const res = await fetch(`${WEB}/app.js`);
  assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.match(res.headers.get("content-security-policy"), /script-src 'self'/);
  assert.equal((await fetch(`${WEB}/../../etc/passwd`)).status, 404);
  assert.equal((await fetch(`${WEB}/`, { method: "POST" })).status, 405);
});

test("the market overview shows the pool's nodes and the wallet is found through the Wallet Standard", async () => {
  await page.goto(WEB, { waitUntil: "domcontentloaded" });
  await until(() => document.querySelectorAll("main table tbody tr").length >= 3, "three nodes listed");
  const body = await text("main");
  assert.match(body, /Fee\s+2\.50 %/);
  assert.match(body, /3 of 3 registered, 600 tokens staked/);
  await page.waitForSelector("xpath/.//button[contains(., 'Connect Concord Test Wallet')]");
  await shot("market-overview");
});

test("connecting shows the buyer's address, tokens and SOL", async () => {
  const [connect] = await page.$$("xpath/.//button[contains(., 'Connect Concord Test Wallet')]");
  await connect.click();
  await until(() => document.querySelector("[data-testid=balances]")?.dataset.tokens, "balances shown");
  const title = await page.$eval("[data-testid=wallet-address]", (e) => e.title);
  assert.equal(title, buyer.publicKey.toBase58());
  const shown = await page.$eval("[data-testid=balances]", (e) => ({ ...e.dataset, text: e.innerText }));
  assert.equal(shown.tokens, (await connection.getTokenAccountBalance(await ata())).value.amount);
  assert.equal(shown.lamports, String(await connection.getBalance(buyer.publicKey)));
  assert.match(shown.text, /^[\d,.]+ tokens · [\d.]+ SOL$/);
  await shot("wallet-connected");
});

const PARAMS = { width: "96", height: "64", cx: "-0.75", cy: "0", scale: "0.04", max_iter: "100" };

async function fillMandelbrot(reward) {
  await page.goto(`${WEB}/#/submit`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#kernel");
  await page.select("#kernel", "mandelbrot");
  for (const [k, v] of Object.entries(PARAMS)) {
    await page.$eval(`#p-${k}`, (e, v) => {
      e.value = v;
      e.dispatchEvent(new Event("input", { bubbles: true }));
    }, v);
  }
  await page.$eval("#reward", (e, v) => {
    e.value = v;
    e.dispatchEvent(new Event("input", { bubbles: true }));
  }, reward);
}

test("the live quote counts the eligible nodes as `concord job quote` does", async () => {
  await fillMandelbrot("0.5");
  // The nodes registered at startup enter the draw with the pool's next epoch (32 slots).
  await until(() => Number(document.querySelector("[data-eligible]")?.dataset.eligible) === 3, "3 eligible nodes", 60_000);
  const shown = await page.$eval("[data-eligible]", (e) => ({ eligible: Number(e.dataset.eligible), price: e.dataset.price, work: e.dataset.work }));
  const cli = JSON.parse(
    execFileSync(BIN, ["-u", RPC, "-k", info.buyer_keypair, "--market", info.market, "--output", "json", "job", "quote", "--kernel", "mandelbrot",
      "--params", Object.entries(PARAMS).map(([k, v]) => `${k}=${v}`).join(","), "--reward", "0.5"], { encoding: "utf8" }),
  );
  assert.equal(shown.eligible, cli.eligible_nodes, JSON.stringify(cli));
  const [whole, frac = ""] = cli.price_per_1e9_work_units.replace(/,/g, "").split(".");
  assert.equal(shown.price, String(BigInt(whole) * 1_000_000n + BigInt(frac.padEnd(6, "0"))), JSON.stringify(cli));
  assert.equal(shown.work, String(cli.work_units));
  const escrow = await page.$eval("[data-testid=escrow]", (e) => e.dataset.base);
  assert.equal(escrow, String(3n * 500_000n + 37_500n), "reward × 3 + 2.5 % fee, in base units");
  assert.match(await text("[data-testid=collusion]"), /20 % of the stake over many identities: 10\.40 %/);
  // The kernel's parameters are checked before anything is signed.
  await page.$eval("#p-width", (e) => {
    e.value = "0";
    e.dispatchEvent(new Event("input", { bubbles: true }));
  });
  assert.match(await text("#form-problem"), /width = 0 is outside 1\.\.16384/);
  assert.equal(await page.$eval("#submit-job", (b) => b.disabled), true);
  await page.$eval("#p-width", (e, v) => {
    e.value = v;
    e.dispatchEvent(new Event("input", { bubbles: true }));
  }, PARAMS.width);
  await shot("submit-quote");
});

test("a declined signature sends nothing and says so", async () => {
  const before = await program.account.market.fetch(info.market);
  const tokens = await connection.getTokenAccountBalance(await ata());
  wallet.reject = true;
  const asked = wallet.requests;
  await page.click("#submit-job");
  await until(() => /Declined in your wallet/.test(document.getElementById("error").innerText), "the refusal shown");
  assert.equal(wallet.requests, asked + 1, "the wallet was asked once");
  wallet.reject = false;
  const now = await program.account.market.fetch(info.market);
  assert.equal(now.nextJobId.toString(), before.nextJobId.toString(), "no job was created");
  assert.equal((await connection.getTokenAccountBalance(await ata())).value.amount, tokens.value.amount);
  await shot("wallet-declined");
  await page.click("#error button");
});

async function ata() {
  const market = await program.account.market.fetch(info.market);
  return PublicKey.findProgramAddressSync(
    [buyer.publicKey.toBytes(), market.tokenProgram.toBytes(), market.mint.toBytes()],
    new PublicKey("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL"),
  )[0];
}

test("an escrow larger than the wallet's tokens is refused before signing, with the shortfall", async () => {
  const tokens = BigInt((await connection.getTokenAccountBalance(await ata())).value.amount);
  const reward = tokens / 1_000_000n; // N = 3 of these is three times what the wallet holds
  await fillMandelbrot(String(reward));
  await until(() => /short of the escrow/.test(document.querySelector("[data-testid=summary]")?.innerText), "the shortfall shown");
  const asked = wallet.requests;
  await page.click("#submit-job");
  await until(() => /Insufficient funds: the escrow is/.test(document.getElementById("error").innerText), "the refusal");
  assert.equal(wallet.requests, asked, "the wallet was not asked");
  await shot("insufficient-funds");
  await page.click("#error button");
  await fillMandelbrot("0.5");
});

test("a job submitted from the page is followed live until it settles", async () => {
  const tokensBefore = BigInt((await connection.getTokenAccountBalance(await ata())).value.amount);
  await page.click("#submit-job");
  await until(() => location.hash.startsWith("#/job/"), "the job page opened");
  jobAddress = new PublicKey(await page.evaluate(() => location.hash.slice("#/job/".length)));
  await page.waitForSelector("[data-testid=job-state]");
  await page.evaluate(() => (window.__cls = 0));
  await until(() => document.querySelector("[data-event=jobDrawn]"), "the draw in the timeline");
  await shot("job-drawn");
  await until(() => document.querySelector("[data-testid=job-state]")?.dataset.state === "settled", "settlement", 90_000);
  await until(() => document.querySelector("[data-event=jobFinalized]"), "the settlement event");
  const events = await page.$$eval("[data-event]", (l) => l.map((e) => e.dataset.event));
  for (const name of ["jobCreated", "jobDrawn", "resultCommitted", "resultRevealed", "seatSettled", "jobFinalized"]) {
    assert.ok(events.includes(name), `${name} in ${events}`);
  }
  assert.equal(events.filter((e) => e === "resultCommitted").length, 3);
  assertPhaseOrder(events, "followed live");
  // A page opened afterwards rebuilds the same timeline from the job's past transactions.
  const later = await browser.newPage();
  try {
    await later.goto(`${WEB}/#/job/${jobAddress.toBase58()}`, { waitUntil: "domcontentloaded" });
    await later.waitForSelector("[data-event=jobFinalized]", { timeout: 30_000 });
    const replayed = await later.$$eval("[data-event]", (l) => l.map((e) => e.dataset.event));
    assertPhaseOrder(replayed, "read from history");
    assert.deepEqual(replayed, events, "the same timeline live and from history");
  } finally {
    await later.close();
  }
  const seats = await page.$$eval("[data-seat-status]", (l) => l.map((e) => e.dataset.seatStatus));
  assert.deepEqual(seats, ["paid", "paid", "paid"]);
  const outcome = await text("[data-testid=outcome]");
  assert.match(outcome, /Paid to workers\s+1\.5 tokens/);
  assert.match(outcome, /Fee\s+0\.0375 tokens/);
  const job = await program.account.job.fetch(jobAddress);
  assert.ok("settled" in job.state);
  const spent = tokensBefore - BigInt((await connection.getTokenAccountBalance(await ata())).value.amount);
  assert.equal(spent, 1_537_500n, "the buyer paid 3 × 0.5 + fee");
  const cls = await page.evaluate(() => window.__cls);
  assert.ok(cls < 0.1, `the page shifted while the job progressed (CLS ${cls})`);
  await shot("job-settled");
});

test("the output is downloaded from the paid nodes, verified in the page and shown", async () => {
  await page.click("#download");
  await until(() => document.querySelector("[data-verified=true]"), "the verified output", 45_000).catch(async (e) => {
    throw new Error(`${e.message}; the page says: ${await text("[data-testid=result]")}`);
  });
  const job = await program.account.job.fetch(jobAddress);
  const accepted = Buffer.from(job.acceptedDigest).toString("hex");
  assert.match(await text("[data-testid=verify-status]"), new RegExp(`sha256 ${accepted} matches`));
  // The image is the verified output: 96 × 64, drawn from the bytes whose digest is on chain.
  const size = await page.$eval("[data-testid=mandelbrot]", (c) => [c.width, c.height]);
  assert.deepEqual(size, [96, 64]);
  // The exported bytes are the verified ones.
  const exported = await page.$eval("#export", async (a) => {
    const b = new Uint8Array(await (await fetch(a.href)).arrayBuffer());
    return btoa(String.fromCharCode(...b));
  });
  const bytes = Buffer.from(exported, "base64");
  assert.equal(bytes.length, 96 * 64 * 4);
  assert.equal(createHash("sha256").update(bytes).digest("hex"), accepted);
  await shot("result-verified");
  await page.setViewport({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than a phone's screen`);
  await shot("result-phone");
  await page.setViewport({ width: 1280, height: 900 });
});

test("my jobs lists it, and closing it returns the rent", async () => {
  await page.goto(`${WEB}/#/mine`, { waitUntil: "domcontentloaded" });
  await until(() => document.querySelectorAll("main tbody tr").length > 0, "my jobs listed");
  const listed = await page.$$eval("main tbody a", (l) => l.map((a) => a.getAttribute("href")));
  assert.ok(listed.includes(`#/job/${jobAddress.toBase58()}`), JSON.stringify(listed));
  await shot("my-jobs");
  const rent = await connection.getBalance(jobAddress);
  await page.goto(`${WEB}/#/job/${jobAddress.toBase58()}`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#close-job");
  // A transaction that closes the job and then fails: its logs carry a JobClosed event, but
  // nothing happened, and the open page must not say otherwise.
  const market = await program.account.market.fetch(info.market);
  const onChain = await program.account.job.fetch(jobAddress);
  const close = await program.methods
    .closeJob()
    .accountsPartial({
      buyer: buyer.publicKey,
      market: info.market,
      job: jobAddress,
      vault: market.vault,
      mint: market.mint,
      destination: onChain.refundAccount,
      tokenProgram: market.tokenProgram,
    })
    .instruction();
  const tooMuch = SystemProgram.transfer({ fromPubkey: buyer.publicKey, toPubkey: Keypair.generate().publicKey, lamports: 10n ** 15n });
  const failing = new Transaction().add(close, tooMuch);
  const sig = await connection.sendTransaction(failing, [buyer], { skipPreflight: true });
  // Polled, not confirmTransaction: its WebSocket would keep this process alive after the test.
  let status = null;
  for (let i = 0; i < 100 && !status; i++) {
    status = (await connection.getSignatureStatuses([sig])).value[0];
    if (!status) await sleep(100);
  }
  assert.ok(status?.err, `the bundle fails: ${JSON.stringify(status)}`);
  const failedLogs = (await connection.getTransaction(sig, { commitment: "confirmed" })).meta.logMessages.join("\n");
  assert.match(failedLogs, /close_job|CloseJob/, "the failed transaction ran close_job first");
  await sleep(1_500);
  assert.equal(await page.$("[data-event=jobClosed]"), null, "a failed transaction's events are not in the timeline");
  assert.equal(await page.$eval("[data-testid=job-state]", (e) => e.dataset.state), "settled");
  const lamportsBefore = await connection.getBalance(buyer.publicKey);
  await page.click("#close-job");
  await until(() => document.querySelector("[data-testid=job-state]")?.dataset.state === "closed", "the job closed");
  assert.equal(await connection.getAccountInfo(jobAddress), null);
  assert.equal(await connection.getBalance(buyer.publicKey), lamportsBefore + rent - 5000);
  await shot("job-closed");
});

test("an input file is hashed in the page, sent inline, and the matrix result previewed", async () => {
  // A = [[1, 2], [3, 4]], B = [[0.5, -1], [2, 0.25]]: 32 bytes of little-endian f32.
  const values = [1, 2, 3, 4, 0.5, -1, 2, 0.25];
  const file = path.join(dir, "ab.bin");
  fs.writeFileSync(file, Buffer.from(new Float32Array(values).buffer));
  const digest = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
  await page.goto(`${WEB}/#/submit`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#kernel");
  await page.select("#kernel", "matmul_f32");
  for (const k of ["m", "n", "k"]) {
    await page.$eval(`#p-${k}`, (e) => {
      e.value = "2";
      e.dispatchEvent(new Event("input", { bubbles: true }));
    });
  }
  await until(() => /exactly 32 bytes/.test(document.querySelector("[data-testid=input-status]")?.innerText), "the size asked for");
  await (await page.$("#input-file")).uploadFile(file);
  await until((d) => document.querySelector("[data-testid=input-status]")?.innerText.includes(d), "the digest shown", 10_000, digest);
  assert.match(await text("[data-testid=input-status]"), /inline/);
  await shot("submit-file-input");
  await page.click("#submit-job");
  await until(() => location.hash.startsWith("#/job/"), "the job page opened");
  const job = new PublicKey(await page.evaluate(() => location.hash.slice("#/job/".length)));
  const onChain = await program.account.job.fetch(job);
  assert.equal(onChain.inputUri, `inline:${fs.readFileSync(file).toString("base64")}`);
  assert.equal(Buffer.from(onChain.inputDigest).toString("hex"), digest);
  await until(() => document.querySelector("[data-testid=job-state]")?.dataset.state === "settled", "settlement", 90_000);
  await page.click("#download");
  await until(() => document.querySelector("[data-verified=true]"), "the verified output", 45_000);
  // C = A·B = [[4.5, -0.5], [9.5, -2]]
  const cells = await page.$$eval("[data-testid=result] tbody td", (l) => l.map((e) => Number(e.innerText)));
  assert.deepEqual(cells, [4.5, -0.5, 9.5, -2]);
  assert.match(await text("[data-testid=result]"), /2 × 2 f32 matrix/);
  await shot("matrix-result");
});

test("a program error comes back by name, with what to do, and nothing is signed", async () => {
  // No node has 1 TiB of VRAM: the job stays undrawn, and its creation slot passes at once.
  await fillMandelbrot("0.5");
  await page.$eval("#min-vram", (e) => {
    e.value = "1048576";
    e.dispatchEvent(new Event("input", { bubbles: true }));
  });
  await until(() => Number(document.querySelector("[data-eligible]")?.dataset.eligible) === 0, "no eligible node");
  assert.match(await text("[data-testid=quote]"), /would not be drawn and would expire with a full refund/);
  await page.click("#submit-job");
  await until(() => location.hash.startsWith("#/job/"), "the job page opened");
  await page.waitForSelector("#cancel-job");
  await sleep(1_000);
  const asked = wallet.requests;
  await page.click("#cancel-job");
  await until(() => /CancelWindowClosed/.test(document.getElementById("error").innerText), "the named error");
  assert.match(await text("#error"), /The program refused: CancelWindowClosed \(6045\).*use Expire/s);
  assert.equal(wallet.requests, asked, "the failing transaction was simulated, never signed");
  await shot("program-error");
  await page.click("#error button");
});

test("every control can be reached and named without a mouse", async () => {
  await page.goto(`${WEB}/#/submit`, { waitUntil: "domcontentloaded" });
  await page.waitForSelector("#submit-job");
  const unnamed = await page.$$eval("input, select, button, a[href]", (els) =>
    els
      .filter((e) => {
        if (e.type === "checkbox") return !e.closest("label");
        const labelled = e.id && document.querySelector(`label[for="${e.id}"]`);
        return !labelled && !e.getAttribute("aria-label") && !e.innerText?.trim();
      })
      .map((e) => e.outerHTML.slice(0, 80)),
  );
  assert.deepEqual(unnamed, []);
  // Tab order reaches the form from the top of the page.
  const seen = new Set();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press("Tab");
    seen.add(await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName));
  }
  for (const id of ["kernel", "p-width", "n", "q"]) assert.ok(seen.has(id), `${id} not reachable by Tab: ${[...seen]}`);
});

test("with the RPC down the page says what to do", async () => {
  net.kill("SIGTERM");
  await new Promise((r) => net.once("exit", r));
  await page.goto(WEB, { waitUntil: "domcontentloaded" });
  await until(() => /The RPC is unreachable/.test(document.getElementById("error").innerText), "the RPC error", 30_000);
  assert.match(await text("#error"), new RegExp(`Cannot reach ${RPC.replace(/\./g, "\\.")}.*concord localnet`));
  await shot("rpc-down");
});
