// Amounts, keys and numbers as the page shows them. Token amounts are bigints in base units and
// shown with the mint's decimals, never through floating point.

/** `base` units as a decimal string with `decimals` places, trailing zeros dropped. */
export function formatAmount(base: bigint, decimals: number): string {
  const neg = base < 0n;
  const abs = neg ? -base : base;
  const unit = 10n ** BigInt(decimals);
  const whole = abs / unit;
  const frac = (abs % unit).toString().padStart(decimals, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${whole.toLocaleString("en-US")}${frac ? "." + frac : ""}`;
}

/** Parses a token amount typed by a person ("1.5") into base units; throws with what to fix. */
export function parseAmount(text: string, decimals: number): bigint {
  const t = text.trim().replace(/[,_\s]/g, "");
  if (!/^\d+(\.\d*)?$|^\.\d+$/.test(t)) {
    throw new Error(`"${text}" is not an amount: write digits with at most one decimal point, like 1.5`);
  }
  const [whole, frac = ""] = t.split(".");
  if (frac.length > decimals) {
    throw new Error(`this token has ${decimals} decimals: "${text}" has ${frac.length}`);
  }
  const v = BigInt(whole || "0") * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  if (v > 0xffff_ffff_ffff_ffffn) throw new Error(`"${text}" is too large`);
  return v;
}

/** `AbcD…wxYz` */
export function short(key: string): string {
  return key.length > 12 ? `${key.slice(0, 4)}…${key.slice(-4)}` : key;
}

export function hex(bytes: ArrayLike<number>): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function percent(x: number, digits = 2): string {
  if (x > 0 && x < 10 ** -(digits + 2)) return `< ${(10 ** -digits).toFixed(digits)} %`;
  return `${(x * 100).toFixed(digits)} %`;
}

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A u64 from Anchor (BN) or a number as a bigint. */
export function big(v: { toString(): string } | number | bigint): bigint {
  return BigInt(v.toString());
}
