// Wallets through the Wallet Standard: every wallet that registers itself (Phantom, Backpack,
// Solflare, …, and the browser test's wallet) is found the same way, with no per-wallet code.
import { getWallets } from "@wallet-standard/app";
import type { Wallet, WalletAccount } from "@wallet-standard/base";
import { PublicKey, Transaction } from "@solana/web3.js";

const CONNECT = "standard:connect";
const DISCONNECT = "standard:disconnect";
const EVENTS = "standard:events";
const SIGN = "solana:signTransaction";

interface ConnectFeature {
  connect(input?: { silent?: boolean }): Promise<{ accounts: readonly WalletAccount[] }>;
}
interface SignFeature {
  signTransaction(
    ...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]
  ): Promise<{ signedTransaction: Uint8Array }[]>;
}
interface EventsFeature {
  on(event: "change", listener: (p: { accounts?: readonly WalletAccount[] }) => void): () => void;
}

/** A wallet the page can use: it connects and signs Solana transactions. */
export function usable(w: Wallet): boolean {
  return CONNECT in w.features && SIGN in w.features && w.chains.some((c) => c.startsWith("solana:"));
}

/** The usable wallets now, and a callback whenever one registers later. */
export function discover(onChange: (wallets: Wallet[]) => void): Wallet[] {
  const api = getWallets();
  const list = () => api.get().filter(usable);
  api.on("register", () => onChange(list()));
  api.on("unregister", () => onChange(list()));
  return list();
}

/** The Wallet Standard chain id for an RPC URL. */
export function chainFor(rpcUrl: string): string {
  if (/devnet/.test(rpcUrl)) return "solana:devnet";
  if (/testnet/.test(rpcUrl)) return "solana:testnet";
  if (/mainnet/.test(rpcUrl)) return "solana:mainnet";
  return "solana:localnet";
}

export interface ConnectedWallet {
  name: string;
  icon: string;
  publicKey: PublicKey;
  signTransaction(tx: Transaction): Promise<Transaction>;
  disconnect(): Promise<void>;
  /** Called when the wallet switches or drops accounts. */
  onChange(listener: () => void): () => void;
}

export async function connect(w: Wallet, rpcUrl: string): Promise<ConnectedWallet> {
  const { accounts } = await (w.features[CONNECT] as ConnectFeature).connect();
  const account = accounts[0] ?? w.accounts[0];
  if (!account) throw new Error(`${w.name} shared no account: unlock it and choose an account, then connect again`);
  const chain = chainFor(rpcUrl);
  return {
    name: w.name,
    icon: w.icon,
    publicKey: new PublicKey(account.publicKey),
    async signTransaction(tx: Transaction): Promise<Transaction> {
      const bytes = tx.serialize({ requireAllSignatures: false, verifySignatures: false });
      const [out] = await (w.features[SIGN] as SignFeature).signTransaction({ account, transaction: bytes, chain });
      return Transaction.from(out.signedTransaction);
    },
    async disconnect() {
      const d = w.features[DISCONNECT] as { disconnect(): Promise<void> } | undefined;
      await d?.disconnect();
    },
    onChange(listener) {
      const ev = w.features[EVENTS] as EventsFeature | undefined;
      return ev ? ev.on("change", () => listener()) : () => {};
    },
  };
}
