// The connected wallet's jobs in this market (program accounts filtered by buyer), with the
// rent that closing the finished ones gives back.
import type { App, Cleanup } from "../main";
import { TERMINAL } from "../chain";
import { h, link, replace, table } from "../dom";
import { formatAmount } from "../format";
import { jobRow } from "./overview";

export async function renderMine(app: App, main: HTMLElement): Promise<Cleanup> {
  if (!app.wallet) {
    replace(main, h("h1", {}, "My jobs"), h("p", {}, "Connect a wallet (top right) to see the jobs it created."));
    return () => {};
  }
  replace(main, h("h1", {}, "My jobs"), h("p", { class: "muted" }, "Loading your jobs…"));
  const jobs = await app.chain.jobsOf(app.market.address, app.wallet.publicKey);
  const finished = jobs.filter((j) => TERMINAL.includes(j.state));
  const rents = await Promise.all(
    finished.map((j) => app.chain.connection.getBalance(j.address, "confirmed").catch(() => 0)),
  );
  const reclaim = rents.reduce((a, b) => a + b, 0);
  replace(
    main,
    h("h1", {}, "My jobs"),
    table(
      "Jobs created by this wallet",
      ["Job", "Kernel", "Quorum", "Reward", "State", "Finished"],
      jobs.map((j) => jobRow(app, j)),
      "this wallet has created no job in this market that still has an account.",
    ),
    finished.length
      ? h(
          "p",
          {},
          `${finished.length} finished job(s) hold ${formatAmount(BigInt(reclaim), 9)} SOL of rent: open one and use Close to get it back.`,
        )
      : null,
    h("p", {}, link("/submit", "Submit a job →")),
  );
  return () => {};
}
