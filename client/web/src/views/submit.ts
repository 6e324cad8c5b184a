// Submitting a job: kernel and parameters, the input (hashed here, inline when small), N and Q
// with the chance that colluding nodes capture the quorum, the reward with a live quote, and a
// summary of what the escrow takes before the wallet is asked to sign.
import { BN } from "@anchor-lang/core";
import { SystemProgram } from "@solana/web3.js";

import type { App, Cleanup } from "../main";
import type { PoolView } from "../chain";
import { h, replace } from "../dom";
import { UserError } from "../errors";
import { bytesText, formatAmount, hex, parseAmount, percent } from "../format";
import { sha256 } from "../hash";
import { KERNELS, encode, inputLen, kernelByName, outputLen, parseParams, workUnits, type KernelDef, type Params } from "../kernels";
import { binomialTail, coalitionCapture, collateralFor, fee, quote, rewardForTarget, type Requirements } from "../quote";
import { backendsText } from "./overview";

/** Inputs up to this many bytes travel inline in the job (`inline:` URI, as the CLI does). */
const INLINE_MAX = 96;
/** A transaction's base fee, in lamports (one signature). */
const TX_FEE = 5_000;

interface Input {
  name: string;
  bytes: Uint8Array;
  digest: Uint8Array;
}

const field = (id: string, label: string, control: HTMLElement, help?: string) =>
  h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    help ? h("p", { class: "help", id: `${id}-help` }, help) : null,
  );

export async function renderSubmit(app: App, main: HTMLElement): Promise<Cleanup> {
  replace(main, h("h1", {}, "Submit a job"), h("p", { class: "muted" }, "Loading the pool…"));
  let market = await app.refreshMarket();
  let pool: PoolView = await app.chain.pool(market);
  let slot = BigInt(await app.chain.connection.getSlot("confirmed"));
  const d = market.decimals;
  let input: Input | null = null;
  let kernel: KernelDef = kernelByName("mandelbrot")!;

  const kernelSelect = h(
    "select",
    { id: "kernel", name: "kernel", "aria-describedby": "kernel-help" },
    ...KERNELS.map((k) => h("option", { value: k.name }, `${k.name}: ${k.title}`)),
  );
  kernelSelect.value = kernel.name;
  const kernelHelp = h("div", { class: "help", id: "kernel-help" });
  const paramsBox = h("fieldset", { class: "params" });
  const inputBox = h("div", { class: "input-box" });
  const fileInput = h("input", { type: "file", id: "input-file", "aria-describedby": "input-help" });
  const urlInput = h("input", { type: "url", id: "input-url", placeholder: "https://… serving exactly this file", autocomplete: "off" });
  const nInput = h("input", { type: "number", id: "n", min: 1, max: market.maxReplication, value: Math.min(3, market.maxReplication), inputmode: "numeric" });
  const qInput = h("input", { type: "number", id: "q", min: 1, max: market.maxReplication, value: Math.min(2, market.maxReplication), inputmode: "numeric" });
  const rewardInput = h("input", { type: "text", id: "reward", value: "1", inputmode: "decimal", autocomplete: "off", "aria-describedby": "quote" });
  const cuda = h("input", { type: "checkbox", id: "be-cuda", checked: true });
  const cpu = h("input", { type: "checkbox", id: "be-cpu", checked: true });
  const vram = h("input", { type: "number", id: "min-vram", min: 0, value: 0, inputmode: "numeric" });
  const cc = h("input", { type: "text", id: "min-cc", value: "", placeholder: "any, or e.g. 8.0", autocomplete: "off" });
  const quoteBox = h("div", { id: "quote", class: "quote", "aria-live": "polite", "data-testid": "quote" });
  const collusionBox = h("div", { id: "collusion", class: "collusion", "data-testid": "collusion" });
  const summaryBox = h("div", { id: "summary", class: "summary", "data-testid": "summary" });
  const problem = h("p", { id: "form-problem", class: "problem", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary", id: "submit-job" }, "Review and sign");

  const paramInputs = new Map<string, HTMLInputElement>();
  function renderKernel(): void {
    replace(
      kernelHelp,
      h("p", {}, kernel.summary),
      h("p", {}, h("strong", {}, "Input: "), kernel.input),
      h("p", {}, h("strong", {}, "Output: "), kernel.output),
    );
    paramInputs.clear();
    replace(paramsBox, h("legend", {}, `Parameters of ${kernel.name}`));
    for (const f of kernel.fields) {
      const id = `p-${f.key}`;
      const el = h("input", { type: "text", id, name: f.key, value: f.initial, autocomplete: "off", "aria-describedby": `${id}-help` });
      paramInputs.set(f.key, el);
      paramsBox.append(field(id, f.label, el, f.help));
    }
    input = null;
    fileInput.value = "";
  }

  function params(): Params {
    const text: Record<string, string> = {};
    for (const [k, el] of paramInputs) text[k] = el.value;
    return parseParams(kernel, text);
  }

  function requirements(): Requirements {
    const backends = (cuda.checked ? 1 : 0) | (cpu.checked ? 2 : 0);
    if (!backends) throw new UserError("Allow at least one backend (CUDA or the bit-identical CPU backend).");
    const ccText = cc.value.trim();
    let minCc = 0;
    if (ccText) {
      const m = ccText.match(/^(\d+)\.(\d)$/);
      if (!m) throw new UserError(`Minimum compute capability "${ccText}": write major.minor, like 8.0 (or leave it empty for any)`);
      minCc = Number(m[1]) * 10 + Number(m[2]);
    }
    const v = Number(vram.value || "0");
    if (!Number.isInteger(v) || v < 0) throw new UserError("Minimum VRAM must be a whole number of MiB.");
    return { minVramMib: v, minComputeCapability: minCc, backends, minAgreed: 0, maxFaultBps: 10_000 };
  }

  function nq(): [number, number] {
    const n = Number(nInput.value);
    const q = Number(qInput.value);
    if (!Number.isInteger(n) || n < 1 || n > market.maxReplication) {
      throw new UserError(`N must be a whole number from 1 to ${market.maxReplication} (this market's maximum).`);
    }
    if (!Number.isInteger(q) || q * 2 <= n || q > n) {
      throw new UserError(`Q must be more than half of N and at most N: for N = ${n}, Q from ${Math.floor(n / 2) + 1} to ${n}.`);
    }
    return [n, q];
  }

  function renderInput(p: Params | null): void {
    const len = p ? inputLen(kernel, p) : 0;
    if (p && len === 0) {
      replace(inputBox, h("p", {}, "This kernel needs no input."));
      return;
    }
    const status =
      input === null
        ? p
          ? `Choose a file of exactly ${len} bytes (${bytesText(len)}).`
          : "Choose the input file."
        : input.bytes.length !== len
          ? `${input.name} has ${input.bytes.length} bytes, but these parameters need exactly ${len}.`
          : `${input.name}: ${bytesText(input.bytes.length)}, sha256 ${hex(input.digest)}${input.bytes.length <= INLINE_MAX ? " (small enough to travel inline in the job)" : ""}`;
    replace(
      inputBox,
      field("input-file", "Input file", fileInput, "Hashed here in your browser; nodes fetch it and check it against this digest."),
      h("p", { class: "help", id: "input-help", "data-testid": "input-status" }, status),
      input && input.bytes.length > INLINE_MAX
        ? field("input-url", "Where nodes download it", urlInput, "An http(s) URL that serves exactly this file (at most 200 characters).")
        : null,
    );
  }

  /** Reads the whole form; throws a UserError that says what to fix. */
  function read() {
    let p: Params;
    try {
      p = params();
    } catch (e) {
      throw new UserError((e as Error).message);
    }
    const [n, q] = nq();
    let reward: bigint;
    try {
      reward = parseAmount(rewardInput.value, d);
    } catch (e) {
      throw new UserError(`Reward per worker: ${(e as Error).message}`);
    }
    if (reward === 0n) throw new UserError("Reward per worker: must be more than 0.");
    const req = requirements();
    return { p, n, q, reward, req, work: workUnits(kernel, p) };
  }

  async function inputUri(p: Params): Promise<[string, Uint8Array]> {
    const len = inputLen(kernel, p);
    if (len === 0) return ["inline:", await sha256(new Uint8Array())];
    if (!input) throw new UserError(`Choose the input file (${len} bytes for these parameters).`);
    if (input.bytes.length !== len) {
      throw new UserError(`${input.name} has ${input.bytes.length} bytes, but ${kernel.name} with these parameters needs exactly ${len}.`);
    }
    if (input.bytes.length <= INLINE_MAX) {
      let bin = "";
      input.bytes.forEach((b) => (bin += String.fromCharCode(b)));
      return [`inline:${btoa(bin)}`, input.digest];
    }
    const url = urlInput.value.trim();
    if (!/^https?:\/\/\S+$/.test(url)) throw new UserError("Give the http(s) URL that serves the input file: nodes download it from there.");
    if (new TextEncoder().encode(url).length > 200) throw new UserError("The input URL is longer than 200 bytes: use a shorter one.");
    return [url, input.digest];
  }

  function update(): void {
    replace(problem);
    let form: ReturnType<typeof read>;
    try {
      form = read();
    } catch (e) {
      renderInput(null);
      replace(quoteBox);
      replace(collusionBox);
      replace(summaryBox);
      replace(problem, (e as Error).message);
      submit.disabled = true;
      return;
    }
    submit.disabled = false;
    renderInput(form.p);
    const { p, n, q, reward, req, work } = form;
    const qt = quote(pool, slot, market, work, req, reward);
    const eligible = qt.eligible.length;
    const target = rewardForTarget(pool, slot, market, work, req, n);
    replace(
      quoteBox,
      h("h3", {}, "Live quote"),
      h(
        "p",
        { "data-eligible": eligible, "data-price": qt.price.toString(), "data-work": work.toString() },
        `${eligible} of ${qt.poolNodes} nodes in the pool are eligible at this reward (${formatAmount(qt.eligibleStake, d)} of ${formatAmount(qt.poolStake, d)} tokens of stake). `,
        `Price ${formatAmount(qt.price, d)} per 10⁹ work units; this job is ${work.toLocaleString("en-US")} work units.`,
      ),
      eligible < n
        ? h("p", { class: "warning" }, `Fewer than N = ${n} eligible nodes: the job would not be drawn and would expire with a full refund.`)
        : null,
      target !== null
        ? h(
            "p",
            {},
            `The lowest reward that makes ${n} nodes eligible: ${formatAmount(target, d)}. `,
            h("button", { type: "button", class: "link", onclick: () => ((rewardInput.value = formatAmount(target, d).replace(/,/g, "")), update()) }, "Use it"),
          )
        : h("p", {}, `No reward makes ${n} nodes eligible with these requirements (${backendsText(req.backends)}).`),
    );
    const weights = qt.eligible.map((e) => Number(e.weight));
    const total = weights.reduce((a, b) => a + b, 0);
    const top = [...weights].sort((a, b) => b - a).slice(0, q);
    const topShare = total > 0 ? top.reduce((a, b) => a + b, 0) / total : 0;
    replace(
      collusionBox,
      h("h3", {}, `Collusion: how likely colluding nodes hold ${q} of ${n} seats`),
      eligible >= n
        ? h(
            "p",
            { "data-testid": "capture-top" },
            `If the ${q} largest eligible nodes (${percent(topShare, 1)} of eligible stake) collude: ${percent(coalitionCapture(weights, q, n, q))}.`,
          )
        : h("p", {}, "Not enough eligible nodes to draw a committee."),
      h(
        "ul",
        {},
        ...[0.1, 0.2, 1 / 3].map((f) =>
          h("li", {}, `A coalition with ${percent(f, 0)} of the stake over many identities: ${percent(binomialTail(n, q, f))}`),
        ),
      ),
      h("p", { class: "help" }, "Seats are drawn at random, weighted by stake, from a seed nobody knows when the job is created."),
    );
    const rewards = reward * BigInt(n);
    const f = fee(market, reward, n);
    const escrow = rewards + f;
    const rent = jobRent[n - 1] ?? 0;
    const balances = document.getElementById("balances")?.dataset;
    const tokens = balances?.tokens ? BigInt(balances.tokens) : null;
    const lamports = balances?.lamports ? Number(balances.lamports) : null;
    replace(
      summaryBox,
      h("h3", {}, "What you pay"),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, "Escrowed now"),
        h("dd", { "data-testid": "escrow", "data-base": escrow.toString() }, `${formatAmount(escrow, d)} tokens = ${formatAmount(reward, d)} × ${n} workers + ${formatAmount(f, d)} fee (${(market.feeBps / 100).toFixed(2)} %)`),
        h("dt", {}, "What comes back"),
        h("dd", {}, `Agreeing workers are paid ${formatAmount(reward, d)} each and the fee is kept only if the job settles; unpaid rewards come back at settlement, and everything, fee included, if the job expires`),
        h("dt", {}, "Job account rent"),
        h("dd", {}, `${formatAmount(BigInt(rent), 9)} SOL, returned when you close the finished job; network fee ${formatAmount(BigInt(TX_FEE), 9)} SOL`),
        h("dt", {}, "Collateral per seat"),
        h("dd", {}, `${formatAmount(collateralFor(market, reward), d)} tokens locked from each drawn node's stake, slashed if it dissents or does not show`),
        h("dt", {}, "Output"),
        h("dd", {}, `${bytesText(outputLen(kernel, p))}, released by the paid nodes after settlement`),
      ),
      app.wallet === null
        ? h("p", { class: "warning" }, "Connect a wallet to submit.")
        : tokens !== null && tokens < escrow
          ? h("p", { class: "warning" }, `Your wallet holds ${formatAmount(tokens, d)} tokens: ${formatAmount(escrow - tokens, d)} short of the escrow.`)
          : lamports !== null && lamports < rent + TX_FEE
            ? h("p", { class: "warning" }, `Your wallet holds ${formatAmount(BigInt(lamports), 9)} SOL: not enough for the job account's rent and the fee.`)
            : null,
    );
  }

  const jobRent: number[] = await Promise.all(
    app.config.jobAccountBytes.map((b) => app.chain.connection.getMinimumBalanceForRentExemption(b)),
  );

  async function onSubmit(ev: Event): Promise<void> {
    ev.preventDefault();
    replace(problem);
    submit.disabled = true;
    try {
      const wallet = app.wallet;
      if (!wallet) throw new UserError("Connect a wallet first (top right).");
      const { p, n, q, reward, req } = read();
      const [uri, digest] = await inputUri(p);
      market = await app.refreshMarket();
      if (market.paused) throw new UserError("The market is paused: it accepts no new jobs now.");
      const escrow = reward * BigInt(n) + fee(market, reward, n);
      const [tokens, lamports] = await Promise.all([
        app.chain.tokenBalance(wallet.publicKey, market),
        app.chain.connection.getBalance(wallet.publicKey, "confirmed"),
      ]);
      if (tokens === null) throw new UserError(`Your wallet has no token account for this market's token (${market.mint.toBase58()}): receive some tokens first.`);
      if (tokens < escrow) {
        throw new UserError(`Insufficient funds: the escrow is ${formatAmount(escrow, d)} tokens and your wallet holds ${formatAmount(tokens, d)}.`);
      }
      if (lamports < (jobRent[n - 1] ?? 0) + TX_FEE) {
        throw new UserError(`Insufficient SOL: the job account's rent and the fee need ${formatAmount(BigInt((jobRent[n - 1] ?? 0) + TX_FEE), 9)} SOL; your wallet holds ${formatAmount(BigInt(lamports), 9)}.`);
      }
      const job = app.chain.jobAddress(market.address, market.nextJobId);
      const ix = await app.chain.program.methods
        .createJob({
          kernel: kernel.id,
          params: Buffer.from(encode(kernel, p)),
          inputUri: uri,
          inputDigest: [...digest],
          requirements: req,
          replication: n,
          quorum: q,
          rewardPerWorker: new BN(reward.toString()),
          feeBps: market.feeBps,
        })
        .accountsPartial({
          buyer: wallet.publicKey,
          market: market.address,
          pool: market.pool,
          job,
          vault: market.vault,
          mint: market.mint,
          buyerToken: app.chain.tokenAccount(wallet.publicKey, market),
          tokenProgram: market.tokenProgram,
          systemProgram: SystemProgram.programId,
        })
        .instruction();
      app.say(`Asking ${wallet.name} to sign job #${market.nextJobId} (escrow ${formatAmount(escrow, d)} tokens)…`);
      const sig = await app.chain.send(wallet, [ix]);
      app.say(`Job #${market.nextJobId} created: ${sig}`);
      void app.refreshWallet();
      location.hash = `#/job/${job.toBase58()}`;
    } catch (e) {
      app.say("");
      app.fail(e);
      submit.disabled = false;
    }
  }

  fileInput.addEventListener("change", async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    try {
      const bytes = new Uint8Array(await file.arrayBuffer());
      input = { name: file.name, bytes, digest: await sha256(bytes) };
    } catch (e) {
      input = null;
      app.fail(e);
    }
    update();
  });
  kernelSelect.addEventListener("change", () => {
    kernel = kernelByName(kernelSelect.value)!;
    renderKernel();
    update();
  });

  const form = h(
    "form",
    { id: "submit-form", novalidate: true, onsubmit: (e: Event) => void onSubmit(e) },
    h("section", { "aria-labelledby": "what" }, h("h2", { id: "what" }, "1. What to compute"), field("kernel", "Kernel", kernelSelect), kernelHelp, paramsBox),
    h("section", { "aria-labelledby": "input-h" }, h("h2", { id: "input-h" }, "2. Input"), inputBox),
    h(
      "section",
      { "aria-labelledby": "who" },
      h("h2", { id: "who" }, "3. Who computes it"),
      h(
        "div",
        { class: "row" },
        field("n", "Replication N (nodes that compute it)", nInput),
        field("q", "Quorum Q (matching results needed)", qInput),
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Hardware"),
        h("div", { class: "row" }, h("label", {}, cuda, " CUDA GPU"), h("label", {}, cpu, " CPU backend (bit-identical)")),
        h("div", { class: "row" }, field("min-vram", "Minimum VRAM (MiB)", vram), field("min-cc", "Minimum compute capability", cc)),
      ),
      collusionBox,
    ),
    h(
      "section",
      { "aria-labelledby": "price" },
      h("h2", { id: "price" }, "4. Price"),
      field("reward", `Reward per worker (tokens, ${d} decimals)`, rewardInput),
      quoteBox,
    ),
    h("section", { "aria-labelledby": "pay" }, h("h2", { id: "pay" }, "5. Review"), summaryBox, problem, submit),
  );
  // (The URL field is read at submission only: re-rendering while typing would move its focus.)
  for (const el of [paramsBox, nInput, qInput, rewardInput, cuda, cpu, vram, cc]) el.addEventListener("input", update);
  renderKernel();
  replace(main, h("h1", {}, "Submit a job"), form);
  update();

  // The quote follows the pool: nodes join, leave and lock collateral.
  const timer = setInterval(async () => {
    try {
      [pool, slot] = await Promise.all([app.chain.pool(market), app.chain.connection.getSlot("confirmed").then(BigInt)]);
      update();
    } catch {
      /* the next tick retries; a hard failure shows when submitting */
    }
  }, 5_000);
  return () => clearInterval(timer);
}

