// One job, followed live: the account through accountSubscribe, the program's events through
// logsSubscribe (and the job's past transactions on load), a timeline of the draw, commits,
// reveals, reassignments and settlement, who was paid and slashed; then the output downloaded
// from the paid nodes, verified against the accepted digest here, shown and exported.
import { PublicKey } from "@solana/web3.js";

import type { App, Cleanup } from "../main";
import { TERMINAL, type JobView } from "../chain";
import { facts, h, replace, table } from "../dom";
import { bytesText, formatAmount, hex, short } from "../format";
import { equal, sha256 } from "../hash";
import { decode, describeParams, kernelById, type KernelDef, type Params } from "../kernels";
import { stateBadge } from "./overview";

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Entry {
  key: string;
  slot: number;
  signature: string;
  /** The event's place among its transaction's events. */
  index: number;
  name: string;
  text: string;
}

/** How long to keep trying the paid nodes while they publish the output (as the CLI does). */
const OUTPUT_WAIT_MS = 30_000;

export async function renderJob(app: App, main: HTMLElement, address: PublicKey): Promise<Cleanup> {
  replace(main, h("h1", {}, "Job"), h("p", { class: "muted" }, "Loading the job…"));
  const chain = app.chain;
  const d = app.market.decimals;
  const amount = (v: any) => `${formatAmount(BigInt(v.toString()), d)} tokens`;
  const node = (k: PublicKey) => h("span", { class: "mono", title: k.toBase58() }, short(k.toBase58()));

  let job: JobView | null = null;
  let closed = false;
  const entries = new Map<string, Entry>();
  // Transactions' order within a slot: their place in the block as getSignaturesForAddress lists
  // it, else (a transaction the history does not hold yet) the order its logs arrived in.
  const txOrder = new Map<string, number>();
  let arrivals = 0;
  const settled: { node: PublicKey; outcome: string; amount: bigint }[] = [];
  let finalized: any = null;

  const title = h("h1", {}, "Job");
  const stateEl = h("p", { class: "state", "aria-live": "polite", "data-testid": "job-state" });
  const details = h("section", { "aria-labelledby": "job-terms" });
  const seatsBox = h("section", { "aria-labelledby": "seats-h", class: "seats" });
  const timeline = h("ol", { class: "timeline", "aria-live": "polite", "data-testid": "timeline" });
  const outcomeBox = h("section", { "aria-labelledby": "outcome-h", class: "outcome", "data-testid": "outcome" });
  const actions = h("div", { class: "actions" });
  const resultBox = h("section", { "aria-labelledby": "result-h", class: "result", "data-testid": "result" });

  function describe(name: string, e: any): string {
    switch (name) {
      case "jobCreated":
        return `created by ${short(e.buyer.toBase58())}: ${amount(e.escrow)} escrowed`;
      case "jobDrawn":
        return `committee drawn: seats ${e.seats.map((k: PublicKey) => short(k.toBase58())).join(", ")}${e.backups.length ? `; backups ${e.backups.map((k: PublicKey) => short(k.toBase58())).join(", ")}` : ""}`;
      case "skippedNode":
        return `skipped ${short(e.node.toBase58())} in the draw (${Object.keys(e.reason ?? {})[0] ?? "ineligible"})`;
      case "resultCommitted":
        return `${short(e.node.toBase58())} committed`;
      case "seatReassigned":
        return `seat ${e.seat + 1} reassigned: ${short(e.from.toBase58())} did not commit in time, ${short(e.to.toBase58())} takes over`;
      case "resultRevealed":
        return `${short(e.node.toBase58())} revealed digest ${hex(e.digest).slice(0, 16)}…`;
      case "seatSettled": {
        const outcome = Object.keys(e.outcome)[0];
        return outcome === "paid"
          ? `${short(e.node.toBase58())} paid ${amount(e.amount)}`
          : outcome === "slashed"
            ? `${short(e.node.toBase58())} slashed ${amount(e.amount)}`
            : `${short(e.node.toBase58())} released`;
      }
      case "jobFinalized":
        return `${Object.keys(e.state)[0]}: paid ${amount(e.paid)}, slashed ${amount(e.slashed)}, fee ${amount(e.fee)}, refund ${amount(e.refund)}${e.refundDelivered ? "" : " (waiting for close)"}`;
      case "refundDelivered":
        return `refund of ${amount(e.amount)} delivered`;
      case "jobStateChanged":
        return `state: ${Object.keys(e.to ?? e.state ?? {})[0] ?? "changed"}`;
      case "jobClosed":
        return "closed: the account's rent went back to the buyer";
      default:
        return name;
    }
  }

  function addEvents(signature: string, slot: number, logs: string[], order?: number): void {
    if (order !== undefined) txOrder.set(signature, order);
    else if (!txOrder.has(signature)) txOrder.set(signature, Number.MAX_SAFE_INTEGER / 2 + arrivals++);
    let i = 0;
    for (const ev of chain.parseEvents(logs)) {
      const e = ev.data;
      if (e.job && !(e.job as PublicKey).equals(address)) continue;
      const index = i++;
      const key = `${signature}:${index}`;
      if (entries.has(key)) continue;
      entries.set(key, { key, slot, signature, index, name: ev.name, text: describe(ev.name, e) });
      if (ev.name === "seatSettled") {
        settled.push({ node: e.node, outcome: Object.keys(e.outcome)[0], amount: BigInt(e.amount.toString()) });
      }
      if (ev.name === "jobFinalized") finalized = e;
      if (ev.name === "jobClosed") closed = true;
    }
    renderTimeline();
    renderOutcome();
  }

  function renderTimeline(): void {
    const order = (e: Entry) => txOrder.get(e.signature) ?? 0;
    const list = [...entries.values()].sort((a, b) => a.slot - b.slot || order(a) - order(b) || a.index - b.index);
    replace(
      timeline,
      ...list.map((e) =>
        h(
          "li",
          { class: e.name, "data-event": e.name },
          h("span", { class: "slot" }, `slot ${e.slot}`),
          " ",
          e.text,
          " ",
          h("span", { class: "sig mono", title: e.signature }, short(e.signature)),
        ),
      ),
    );
    if (list.length === 0) replace(timeline, h("li", { class: "muted" }, "Waiting for the job's first transaction…"));
  }

  function renderOutcome(): void {
    if (!finalized) {
      replace(outcomeBox, h("h2", { id: "outcome-h" }, "Outcome"), h("p", { class: "muted" }, "Not settled yet."));
      return;
    }
    replace(
      outcomeBox,
      h("h2", { id: "outcome-h" }, "Outcome"),
      facts([
        ["Result", Object.keys(finalized.state)[0]],
        ["Paid to workers", amount(finalized.paid)],
        ["Slashed", amount(finalized.slashed)],
        ["Fee", amount(finalized.fee)],
        ["Refunded to you", `${amount(finalized.refund)}${finalized.refundDelivered ? "" : " (delivered when you close the job)"}`],
      ]),
      table(
        "Seats settled",
        ["Node", "Outcome", "Amount"],
        settled.map((s) => [node(s.node), s.outcome, s.outcome === "released" ? "—" : amount(s.amount)]),
      ),
    );
  }

  function deadline(ts: number): string {
    return ts > 0 ? new Date(ts * 1000).toLocaleTimeString() : "—";
  }

  /** The deadline of the phase the job is in (the reveal deadline is set only when reveals open). */
  function phaseDeadline(j: JobView): string {
    switch (j.state) {
      case "open":
        return "the draw, a few slots after creation (else it expires with a full refund)";
      case "assigned":
        return `commit by ${deadline(j.commitDeadline)}`;
      case "revealing":
        return `reveal by ${deadline(j.revealDeadline)}`;
      default:
        return `none: finished ${deadline(j.finalizedAt)}`;
    }
  }

  function renderJobState(): void {
    if (!job) return;
    const j = job;
    const k = kernelById(j.kernel);
    const params = k ? decode(k, j.params) : null;
    title.textContent = `Job #${j.jobId}`;
    replace(stateEl, stateBadge(closed ? "closed" : j.state), " ", stateText(j));
    stateEl.dataset.state = closed ? "closed" : j.state;
    replace(
      details,
      h("h2", { id: "job-terms" }, "Terms"),
      facts([
        ["Address", h("span", { class: "mono" }, j.address.toBase58())],
        ["Kernel", k ? `${k.name} (${params ? describeParams(k, params) : "?"})` : `id ${j.kernel}`],
        ["Input", h("span", { class: "mono wrap" }, j.inputUri.length > 80 ? `${j.inputUri.slice(0, 77)}…` : j.inputUri)],
        ["Input sha256", h("span", { class: "mono wrap" }, hex(j.inputDigest))],
        ["Quorum", `${j.quorum} of ${j.replication} matching results`],
        ["Reward per worker", `${formatAmount(j.rewardPerWorker, d)} tokens (fee ${formatAmount(j.fee, d)})`],
        ["Still escrowed", `${formatAmount(j.escrow, d)} tokens`],
        ["Deadline", `${phaseDeadline(j)}; reassignments ${j.reassignments} of ${j.maxReassignments}`],
      ]),
    );
    const rows = j.seats.map((s, i) => [
      String(i + 1),
      node(s.node),
      h("span", { class: `badge ${s.status}`, "data-seat-status": s.status }, s.status),
      s.status === "revealed" || s.status === "paid" || s.status === "slashed" ? h("span", { class: "mono" }, `${hex(s.digest).slice(0, 16)}…`) : "—",
    ]);
    // One row per seat from the start, so the table does not grow while the job runs.
    while (rows.length < j.replication) rows.push([String(rows.length + 1), "not drawn yet", "—", "—"]);
    replace(
      seatsBox,
      h("h2", { id: "seats-h" }, "Committee"),
      table("Seats", ["Seat", "Node", "Status", "Digest"], rows),
      h(
        "p",
        { class: "help" },
        j.backups.length
          ? `Backups: ${j.backups.map((b) => short(b.toBase58())).join(", ")}`
          : j.state === "open"
            ? "Backups: drawn with the seats."
            : "Backups: none left (none drawn, or all taken).",
      ),
    );
    renderActions();
    renderResultIntro();
  }

  function stateText(j: JobView): string {
    if (closed) return "Closed: the job account is gone and its rent is back with the buyer.";
    switch (j.state) {
      case "open":
        return "Waiting for the draw (the first seat holder's commit draws the committee).";
      case "assigned":
        return `Drawn; ${j.seats.filter((s) => s.status !== "assigned").length} of ${j.replication} seats committed.`;
      case "revealing":
        return `Revealing: ${j.seats.filter((s) => s.status === "revealed").length} of ${j.replication} revealed.`;
      case "settled":
        return "Settled: a quorum agreed on the output.";
      case "failed":
        return "Failed: no quorum. Unpaid rewards were refunded.";
      case "expired":
        return "Expired: no committee could be drawn. The escrow was refunded in full.";
      default:
        return "Cancelled: the escrow was refunded in full.";
    }
  }

  function renderActions(): void {
    replace(actions);
    if (!job || closed) return;
    const j = job;
    const mine = app.wallet?.publicKey.equals(j.buyer) ?? false;
    const button = (label: string, id: string, run: () => Promise<any>, help: string) =>
      h(
        "div",
        { class: "action" },
        h(
          "button",
          {
            type: "button",
            id,
            onclick: async (e: Event) => {
              const b = e.currentTarget as HTMLButtonElement;
              b.disabled = true;
              try {
                const ix = await run();
                app.say(`${label}: asking ${app.wallet!.name} to sign…`);
                const sig = await chain.send(app.wallet!, [ix]);
                app.say(`${label}: confirmed (${sig})`);
                void app.refreshWallet();
              } catch (err) {
                app.say("");
                app.fail(err);
              } finally {
                b.disabled = false;
              }
            },
          },
          label,
        ),
        h("span", { class: "help" }, help),
      );
    const m = app.market;
    const accounts = {
      market: m.address,
      pool: m.pool,
      job: j.address,
      vault: m.vault,
      mint: m.mint,
      tokenProgram: m.tokenProgram,
    };
    // close_job and cancel_job: the buyer signs; refunds go to the account recorded at creation.
    const asBuyer = { buyer: app.wallet?.publicKey, market: m.address, job: j.address, vault: m.vault, mint: m.mint, destination: j.refundAccount, tokenProgram: m.tokenProgram };
    const seatNodes = [...j.seats.map((s) => s.node), ...j.backups].map((pubkey) => ({ pubkey, isSigner: false, isWritable: true }));
    if (!app.wallet) {
      replace(actions, h("p", { class: "help" }, "Connect the buyer's wallet to close or crank this job."));
      return;
    }
    if (TERMINAL.includes(j.state)) {
      if (mine) {
        actions.append(
          button(
            "Close job",
            "close-job",
            () =>
              chain.program.methods
                .closeJob()
                .accountsPartial(asBuyer)
                .instruction(),
            "Deletes the finished job's account and returns its rent to you (and any refund still owed).",
          ),
        );
      }
      return;
    }
    if (j.state === "open" && mine) {
      actions.append(
        button(
          "Cancel",
          "cancel-job",
          () =>
            chain.program.methods
              .cancelJob()
              .accountsPartial(asBuyer)
              .instruction(),
          "Only in the job's creation slot; later an undrawn job expires with a full refund after its draw horizon.",
        ),
      );
    }
    if (j.state === "open") {
      actions.append(
        button(
          "Expire",
          "expire-job",
          () => chain.program.methods.drawJob().accountsPartial({ ...accounts, refundAccount: j.refundAccount }).instruction(),
          `If no committee was drawn within ${j.drawHorizonSlots} slots of creation, this expires the job and refunds the escrow in full.`,
        ),
      );
    } else {
      actions.append(
        button(
          "Settle",
          "settle-job",
          () => chain.program.methods.settleJob().accountsPartial({ ...accounts, refundAccount: j.refundAccount }).remainingAccounts(seatNodes).instruction(),
          "Anyone may settle once the commit or reveal deadline has passed: no-shows are slashed or reassigned, and you are refunded what is not owed.",
        ),
      );
    }
  }

  function renderResultIntro(): void {
    if (!job || resultBox.dataset.done === "1") return;
    const j = job;
    const ready = j.state === "settled" && j.acceptedDigest !== null;
    replace(
      resultBox,
      h("h2", { id: "result-h" }, "Result"),
      ready
        ? h(
            "div",
            {},
            h("p", {}, `Accepted digest ${hex(j.acceptedDigest!)}.`),
            h("button", { type: "button", class: "primary", id: "download", onclick: () => void download(j) }, "Download and verify"),
          )
        : h("p", { class: "muted" }, TERMINAL.includes(j.state) ? "This job has no output." : "The output is released by the paid nodes after settlement."),
    );
  }

  async function download(j: JobView): Promise<void> {
    const digest = j.acceptedDigest!;
    const k = kernelById(j.kernel);
    const uris = j.seats.filter((s) => s.status === "paid" && equal(s.digest, digest)).map((s) => s.outputUri);
    const status = h("p", { "aria-live": "polite", "data-testid": "verify-status" }, `Downloading from ${uris.length} paid node(s)…`);
    replace(resultBox, h("h2", { id: "result-h" }, "Result"), status);
    const started = Date.now();
    const problems: string[] = [];
    for (;;) {
      problems.length = 0;
      for (const uri of uris) {
        if (!/^https?:\/\//.test(uri)) {
          problems.push(`${uri}: a browser can read only http(s) outputs (this node publishes to its own disk)`);
          continue;
        }
        try {
          const res = await fetch(uri, { cache: "no-store" });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
          const bytes = new Uint8Array(await res.arrayBuffer());
          const got = await sha256(bytes);
          if (!equal(got, digest)) throw new Error(`sha256 ${hex(got).slice(0, 16)}… does not match the accepted digest`);
          showResult(j, k, bytes, uri);
          return;
        } catch (e) {
          problems.push(`${uri}: ${(e as Error).message}`);
        }
      }
      if (Date.now() - started > OUTPUT_WAIT_MS || uris.every((u) => !/^https?:\/\//.test(u))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    replace(
      resultBox,
      h("h2", { id: "result-h" }, "Result"),
      h("p", { class: "problem", role: "alert" }, "No paid node delivered bytes with the accepted digest:"),
      h("ul", {}, ...problems.map((p) => h("li", {}, p))),
      h("button", { type: "button", onclick: () => void download(j) }, "Try again"),
    );
  }

  function showResult(j: JobView, k: KernelDef | undefined, bytes: Uint8Array, uri: string): void {
    const params = k ? decode(k, j.params) : null;
    const blob = new Blob([bytes as BlobPart], { type: "application/octet-stream" });
    const href = URL.createObjectURL(blob);
    resultBox.dataset.done = "1";
    replace(
      resultBox,
      h("h2", { id: "result-h" }, "Result"),
      h(
        "p",
        { class: "verified", "data-testid": "verify-status", "data-verified": "true" },
        `Verified: ${bytesText(bytes.length)} from ${uri}; sha256 ${hex(j.acceptedDigest!)} matches the digest the quorum accepted.`,
      ),
      k && params ? preview(k, params, bytes) : null,
      h("p", {}, h("a", { href, download: `concord-job-${j.jobId}.bin`, class: "button", id: "export" }, "Save the verified output")),
    );
  }

  function preview(k: KernelDef, p: Params, bytes: Uint8Array): HTMLElement {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (k.name === "mandelbrot") {
      const w = p.width as number;
      const hgt = p.height as number;
      const max = p.max_iter as number;
      const canvas = h("canvas", { width: w, height: hgt, role: "img", "aria-label": `Mandelbrot image, ${w}×${hgt} pixels, drawn from the verified output`, "data-testid": "mandelbrot" });
      const ctx = canvas.getContext("2d");
      if (ctx) {
        const img = ctx.createImageData(w, hgt);
        for (let i = 0; i < w * hgt; i++) {
          const it = view.getUint32(i * 4, true);
          const t = it >= max ? 0 : Math.sqrt(it / max);
          img.data[i * 4] = Math.round(255 * Math.min(1, t * 1.6));
          img.data[i * 4 + 1] = Math.round(255 * t * t);
          img.data[i * 4 + 2] = Math.round(255 * Math.min(1, 0.4 + t) * (it >= max ? 0 : 1));
          img.data[i * 4 + 3] = 255;
        }
        ctx.putImageData(img, 0, 0);
      }
      return h("figure", {}, canvas, h("figcaption", {}, `${w} × ${hgt}, iteration cap ${max}`));
    }
    if (k.name === "sha256_batch") {
      const count = Math.min(p.count as number, 4);
      return h(
        "figure",
        {},
        h("ol", { class: "mono" }, ...Array.from({ length: count }, (_, i) => h("li", {}, hex(bytes.subarray(i * 32, i * 32 + 32))))),
        h("figcaption", {}, `${p.count} digests${(p.count as number) > count ? ` (first ${count} shown)` : ""}`),
      );
    }
    const rows = k.name === "mlp_f32" ? (p.batch as number) : (p.m as number);
    const cols = k.name === "mlp_f32" ? (p.layers as number[]).at(-1)! : (p.n as number);
    const int = k.name === "matmul_i8";
    const shownRows = Math.min(rows, 6);
    const shownCols = Math.min(cols, 6);
    const cell = (r: number, c: number) => {
      const o = (r * cols + c) * 4;
      return int ? String(view.getInt32(o, true)) : view.getFloat32(o, true).toPrecision(5);
    };
    return h(
      "figure",
      {},
      table(
        `${rows} × ${cols} ${int ? "i32" : "f32"} matrix${rows > shownRows || cols > shownCols ? ` (top-left ${shownRows} × ${shownCols})` : ""}`,
        Array.from({ length: shownCols }, (_, c) => `col ${c}`),
        Array.from({ length: shownRows }, (_, r) => Array.from({ length: shownCols }, (_, c) => cell(r, c))),
      ),
    );
  }

  // Subscriptions first, then the history, so that nothing falls between the two.
  const accountSub = chain.connection.onAccountChange(
    address,
    (info) => {
      if (info.lamports === 0 || info.data.length === 0) {
        closed = true;
      } else {
        job = chain.decodeJob(address, new Uint8Array(info.data));
      }
      renderJobState();
    },
    { commitment: "confirmed" },
  );
  // A failed transaction's logs keep the events it emitted before failing; none of them happened.
  const logsSub = chain.connection.onLogs(address, (l, ctx) => l.err === null && addEvents(l.signature, ctx.slot, l.logs), "confirmed");

  job = await chain.job(address);
  if (!job) closed = true;
  const sigs = await chain.connection.getSignaturesForAddress(address, { limit: 200 }, "confirmed");
  if (sigs.length) {
    const txs = await chain.connection.getTransactions(
      sigs.map((s) => s.signature),
      { commitment: "confirmed", maxSupportedTransactionVersion: 0 },
    );
    // Newest first, in block order within a slot.
    txs.forEach((tx, i) => tx?.meta?.logMessages && !tx.meta.err && addEvents(sigs[i].signature, tx.slot, tx.meta.logMessages, sigs.length - i));
  }
  if (!job && entries.size === 0) {
    replace(main, h("h1", {}, "Job not found"), h("p", {}, `No job account at ${address.toBase58()} and no transactions mention it on ${app.config.rpcUrl}.`));
  } else {
    // The timeline grows as events arrive, so it comes after everything that must not move.
    replace(main, title, stateEl, actions, seatsBox, outcomeBox, resultBox, h("section", { "aria-labelledby": "tl-h" }, h("h2", { id: "tl-h" }, "Timeline"), timeline), details);
    renderTimeline();
    renderOutcome();
    if (job) renderJobState();
    else replace(stateEl, stateBadge("closed"), " Closed: the job account is gone; its history is above.");
  }
  return () => {
    void chain.connection.removeAccountChangeListener(accountSub);
    void chain.connection.removeOnLogsListener(logsSub);
  };
}
