// Node's Buffer, which @solana/web3.js 1.x and @anchor-lang/core use in the browser too. Imported
// first by main.ts, before either library's module body runs.
import { Buffer } from "buffer";

const g = globalThis as unknown as { Buffer?: typeof Buffer };
g.Buffer ??= Buffer;
