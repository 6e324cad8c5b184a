// The app shell: configuration, the market, the wallet, the router and the status line.
import "./polyfill";

import { PublicKey, LAMPORTS_PER_SOL } from "@solana/web3.js";
import type { Wallet } from "@wallet-standard/base";

import { Chain, type MarketView, type WebConfig } from "./chain";
import { $, h, replace } from "./dom";
import { explain } from "./errors";
import { formatAmount, short } from "./format";
import { connect, discover, type ConnectedWallet } from "./wallet";
import { renderOverview } from "./views/overview";
import { renderSubmit } from "./views/submit";
import { renderJob } from "./views/job";
import { renderMine } from "./views/mine";

export interface App {
  config: WebConfig;
  chain: Chain;
  market: MarketView;
  wallet: ConnectedWallet | null;
  /** Shows `text` in the status line (announced to screen readers). */
  say(text: string): void;
  /** Shows an error as a person can act on it. */
  fail(e: unknown): void;
  /** Re-reads the wallet's balances in the header. */
  refreshWallet(): Promise<void>;
  /** Re-reads the market account. */
  refreshMarket(): Promise<MarketView>;
}

/** A view renders into `main` and returns what to undo when the route changes. */
export type Cleanup = () => void;

let app: App;
let wallets: Wallet[] = [];
let cleanup: Cleanup | null = null;

function say(text: string): void {
  replace($("status"), text);
}

function fail(e: unknown): void {
  const { title, detail } = explain(e, app?.config.rpcUrl ?? "the RPC");
  console.error(e);
  const box = $("error");
  replace(
    box,
    h("strong", {}, title),
    h("span", {}, ` ${detail}`),
    h("button", { type: "button", class: "link", onclick: () => replace(box) }, "Dismiss"),
  );
  box.focus();
}

async function loadConfig(): Promise<WebConfig> {
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status} (serve the app with concord web)`);
  const config = (await res.json()) as WebConfig;
  // ?rpc=…&ws=…&market=… override what the server was started with.
  const q = new URLSearchParams(location.search);
  config.rpcUrl = q.get("rpc") ?? config.rpcUrl;
  config.wsUrl = q.get("ws") ?? config.wsUrl;
  config.market = q.get("market") ?? config.market;
  return config;
}

async function chooseMarket(chain: Chain, wanted: string | null): Promise<MarketView> {
  if (wanted) return chain.market(new PublicKey(wanted));
  const all = await chain.markets();
  if (all.length === 0) throw new Error(`no Concord market on ${chain.config.rpcUrl} (program ${chain.config.programId})`);
  return all.sort((a, b) => Number(b.totalStake - a.totalStake))[0];
}

function renderWallet(): void {
  const box = $("wallet");
  if (app.wallet) {
    const w = app.wallet;
    replace(
      box,
      h("img", { src: w.icon, alt: "", width: 20, height: 20 }),
      h("span", { class: "mono", title: w.publicKey.toBase58(), "data-testid": "wallet-address" }, short(w.publicKey.toBase58())),
      h("span", { id: "balances", "data-testid": "balances" }, "…"),
      h(
        "button",
        {
          type: "button",
          onclick: async () => {
            await w.disconnect().catch(() => {});
            app.wallet = null;
            renderWallet();
            route();
          },
        },
        "Disconnect",
      ),
    );
    void app.refreshWallet();
    return;
  }
  if (wallets.length === 0) {
    replace(box, h("span", { class: "muted" }, "No Solana wallet found: install one that supports the Wallet Standard (Phantom, Backpack, Solflare, …) and reload."));
    return;
  }
  replace(
    box,
    ...wallets.map((w) =>
      h(
        "button",
        {
          type: "button",
          class: "primary",
          onclick: async () => {
            try {
              say(`Connecting to ${w.name}…`);
              app.wallet = await connect(w, app.config.rpcUrl);
              app.wallet.onChange(() => {
                app.wallet = null;
                renderWallet();
                route();
              });
              say(`Connected ${w.name}: ${app.wallet.publicKey.toBase58()}`);
              renderWallet();
              route();
            } catch (e) {
              say("");
              fail(e);
            }
          },
        },
        h("img", { src: w.icon, alt: "", width: 18, height: 18 }),
        ` Connect ${w.name}`,
      ),
    ),
  );
}

async function refreshWallet(): Promise<void> {
  const w = app.wallet;
  const el = document.getElementById("balances");
  if (!w || !el) return;
  try {
    const [tokens, lamports] = await Promise.all([
      app.chain.tokenBalance(w.publicKey, app.market),
      app.chain.connection.getBalance(w.publicKey, "confirmed"),
    ]);
    const d = app.market.decimals;
    replace(
      el,
      tokens === null ? "no token account" : `${formatAmount(tokens, d)} tokens`,
      " · ",
      `${formatAmount(BigInt(lamports), 9)} SOL`,
    );
    el.dataset.tokens = tokens === null ? "" : tokens.toString();
    el.dataset.lamports = String(lamports);
    el.title = `${lamports / LAMPORTS_PER_SOL} SOL for fees and rent; tokens of mint ${app.market.mint.toBase58()}`;
  } catch (e) {
    replace(el, "balances unavailable");
    fail(e);
  }
}

function route(): void {
  cleanup?.();
  cleanup = null;
  const main = $("main");
  const path = location.hash.replace(/^#/, "") || "/";
  for (const a of document.querySelectorAll<HTMLAnchorElement>("nav a")) {
    const target = a.getAttribute("href")!.slice(1);
    if ((target === "/" && path === "/") || (target !== "/" && path.startsWith(target))) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  const job = path.match(/^\/job\/([1-9A-HJ-NP-Za-km-z]{32,44})$/);
  let out: Promise<Cleanup | void>;
  if (job) out = renderJob(app, main, new PublicKey(job[1]));
  else if (path === "/submit") out = renderSubmit(app, main);
  else if (path === "/mine") out = renderMine(app, main);
  else out = renderOverview(app, main);
  out.then((c) => (cleanup = c ?? null)).catch(fail);
  main.focus({ preventScroll: true });
}

async function start(): Promise<void> {
  const main = $("main");
  let config: WebConfig;
  try {
    config = await loadConfig();
  } catch (e) {
    replace(main, h("p", {}, `Cannot load the app's configuration: ${(e as Error).message}`));
    return;
  }
  const chain = new Chain(config);
  replace($("network"), h("span", { title: config.rpcUrl }, config.rpcUrl));
  let market: MarketView;
  try {
    market = await chooseMarket(chain, config.market);
  } catch (e) {
    app = { config } as App;
    replace(
      main,
      h("h1", {}, "Concord"),
      h("p", {}, "The page could not read the market."),
      h("button", { type: "button", class: "primary", onclick: () => location.reload() }, "Try again"),
    );
    fail(e);
    return;
  }
  app = {
    config,
    chain,
    market,
    wallet: null,
    say,
    fail,
    refreshWallet,
    async refreshMarket() {
      app.market = await chain.market(app.market.address);
      return app.market;
    },
  };
  replace($("market-name"), h("span", { class: "mono", title: market.address.toBase58() }, `market ${short(market.address.toBase58())}`));
  wallets = discover((list) => {
    wallets = list;
    if (!app.wallet) renderWallet();
  });
  renderWallet();
  window.addEventListener("hashchange", route);
  route();
}

void start();
