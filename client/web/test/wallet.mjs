// A test-only wallet that implements the Wallet Standard, injected into the page before any of
// its scripts run. The page finds it exactly as it finds Phantom or Backpack (the
// `wallet-standard:register-wallet` / `wallet-standard:app-ready` handshake). It holds no key:
// signing is delegated to the test process (`window.__testWalletSign`, exposed by puppeteer),
// which signs with a keypair from the local network's data directory, or refuses as a person
// would when the test asks it to.
import { Keypair, Transaction } from "@solana/web3.js";

/** Runs in the page (serialised by puppeteer): registers the wallet for `address`. */
export function injectWallet(address, publicKeyBytes) {
  const listeners = { change: [] };
  let accounts = [];
  const account = {
    address,
    publicKey: new Uint8Array(publicKeyBytes),
    chains: ["solana:localnet", "solana:devnet"],
    features: ["solana:signTransaction"],
  };
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const unb64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const wallet = {
    version: "1.0.0",
    name: "Concord Test Wallet",
    icon:
      "data:image/svg+xml;base64," +
      btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#7a4df0"/></svg>'),
    chains: ["solana:localnet", "solana:devnet"],
    get accounts() {
      return accounts;
    },
    features: {
      "standard:connect": {
        version: "1.0.0",
        connect: async () => {
          accounts = [account];
          return { accounts };
        },
      },
      "standard:disconnect": {
        version: "1.0.0",
        disconnect: async () => {
          accounts = [];
        },
      },
      "standard:events": {
        version: "1.0.0",
        on: (event, listener) => {
          listeners[event]?.push(listener);
          return () => (listeners[event] = listeners[event].filter((l) => l !== listener));
        },
      },
      "solana:signTransaction": {
        version: "1.0.0",
        supportedTransactionVersions: ["legacy", 0],
        signTransaction: async (...inputs) => {
          const out = [];
          for (const input of inputs) {
            const signed = await window.__testWalletSign(b64(input.transaction));
            if (signed === null) {
              const e = new Error("User rejected the request.");
              e.code = 4001;
              throw e;
            }
            out.push({ signedTransaction: unb64(signed) });
          }
          return out;
        },
      },
    },
  };
  const callback = ({ register }) => register(wallet);
  window.addEventListener("wallet-standard:app-ready", ({ detail }) => callback(detail));
  window.dispatchEvent(new CustomEvent("wallet-standard:register-wallet", { detail: callback }));
}

/** The test process's side: signs with `keypair` unless `state.reject` is set. */
export function signer(keypair, state) {
  return async (base64) => {
    state.requests += 1;
    if (state.reject) return null;
    const tx = Transaction.from(Buffer.from(base64, "base64"));
    tx.partialSign(keypair);
    return tx.serialize({ requireAllSignatures: false }).toString("base64");
  };
}

export function keypairFrom(json) {
  return Keypair.fromSecretKey(Uint8Array.from(JSON.parse(json)));
}
