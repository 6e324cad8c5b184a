// The market at a glance: its terms, the nodes in the pool (stake, asks, hardware, record) and
// the latest jobs with their outcomes.
import type { App, Cleanup } from "../main";
import { TERMINAL, type JobView } from "../chain";
import { facts, h, link, replace, table } from "../dom";
import { formatAmount, short } from "../format";
import { kernelById } from "../kernels";

export function backendsText(mask: number): string {
  return [mask & 1 ? "CUDA" : "", mask & 2 ? "CPU" : ""].filter(Boolean).join(" + ") || "none";
}

export function stateBadge(state: string): HTMLElement {
  return h("span", { class: `badge ${state}` }, state);
}

export function jobRow(app: App, j: JobView) {
  const d = app.market.decimals;
  return [
    link(`/job/${j.address.toBase58()}`, `#${j.jobId}`, `job ${j.jobId}`),
    kernelById(j.kernel)?.name ?? `kernel ${j.kernel}`,
    `${j.quorum} of ${j.replication}`,
    formatAmount(j.rewardPerWorker, d),
    stateBadge(j.state),
    TERMINAL.includes(j.state) && j.finalizedAt > 0 ? new Date(j.finalizedAt * 1000).toLocaleTimeString() : "—",
  ];
}

export async function renderOverview(app: App, main: HTMLElement): Promise<Cleanup> {
  replace(main, h("h1", {}, "Market"), h("p", { class: "muted" }, "Loading the market…"));
  const m = await app.refreshMarket();
  const [nodes, jobs] = await Promise.all([app.chain.nodes(m.address), app.chain.recentJobs(m, 10)]);
  const d = m.decimals;
  const inPool = nodes.filter((n) => n.inPool);
  const poolStake = inPool.reduce((s, n) => s + n.stake, 0n);
  replace(
    main,
    h("h1", {}, "Market"),
    m.paused ? h("p", { class: "warning", role: "note" }, "This market is paused: no new jobs are accepted.") : null,
    h(
      "section",
      { "aria-labelledby": "terms" },
      h("h2", { id: "terms" }, "Terms"),
      facts([
        ["Address", h("span", { class: "mono" }, m.address.toBase58())],
        ["Token", h("span", { class: "mono" }, `${m.mint.toBase58()} (${d} decimals)`)],
        ["Fee", `${(m.feeBps / 100).toFixed(2)} % of reward × N`],
        ["Nodes in the pool", `${inPool.length} of ${nodes.length} registered, ${formatAmount(poolStake, d)} tokens staked`],
        ["Replication", `N up to ${m.maxReplication}, quorum Q > N/2`],
        ["Windows", `commit ${m.executionWindow} s after the draw, reveal ${m.revealWindow} s, draw within ${m.drawHorizonSlots} slots`],
        ["Collateral per seat", `${Number(m.collateralBps) / 100} % of the reward, at least ${formatAmount(m.minCollateral, d)} tokens`],
        ["In escrow", `${formatAmount(m.totalEscrow, d)} tokens over open jobs`],
      ]),
    ),
    h(
      "section",
      { "aria-labelledby": "nodes" },
      h("h2", { id: "nodes" }, "Nodes"),
      table(
        "Registered nodes",
        ["Node", "Hardware", "Backends", "Stake", "Ask per 10⁹ units", "In draw", "Agreed / faults"],
        nodes
          .sort((a, b) => Number(b.stake - a.stake))
          .map((n) => [
            h("span", { class: "mono", title: n.address.toBase58() }, short(n.address.toBase58())),
            `${n.gpuModel}${n.vramMib ? `, ${(n.vramMib / 1024).toFixed(0)} GiB` : ""}${n.computeCapability ? `, sm_${n.computeCapability}` : ""}`,
            backendsText(n.backends),
            formatAmount(n.stake, d),
            formatAmount(n.ask, d),
            n.unbonding ? "unbonding" : n.inPool ? "yes" : n.available ? "joining" : "off",
            `${n.agreed} / ${n.dissented + n.missed}`,
          ]),
        "no node has registered in this market.",
      ),
    ),
    h(
      "section",
      { "aria-labelledby": "recent" },
      h("h2", { id: "recent" }, "Recent jobs"),
      table("The market's latest jobs", ["Job", "Kernel", "Quorum", "Reward", "State", "Finished"], jobs.map((j) => jobRow(app, j)), "no jobs yet."),
      h("p", {}, link("/submit", "Submit a job →")),
    ),
  );
  return () => {};
}
