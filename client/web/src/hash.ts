// SHA-256 in the browser, with WebCrypto.
import { UserError } from "./errors";

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  if (!globalThis.crypto?.subtle) {
    throw new UserError(
      "This browser allows hashing (WebCrypto) only on secure pages: open the app at http://localhost or 127.0.0.1, or over https://.",
    );
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
