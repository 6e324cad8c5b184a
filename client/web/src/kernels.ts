// Concord's kernel catalogue as the page offers it: each kernel's parameters, their on-chain
// encoding, input and output sizes, and work units. The same rules as the program's
// (`programs/concord/src/pricing.rs`) and the client crate's (`client/src/kernels.rs`); the
// browser test checks the encoding against the program by submitting jobs.

export type ParamKind = "u32" | "f64" | "sizes";

export interface Field {
  key: string;
  label: string;
  help: string;
  kind: ParamKind;
  initial: string;
}

export interface KernelDef {
  id: number;
  name: string;
  title: string;
  summary: string;
  input: string;
  output: string;
  fields: Field[];
}

/** Bounds every node enforces (client/src/kernels.rs `Limits::default`). */
export const LIMITS = { maxDim: 16_384, maxBytes: 2 ** 30, maxIter: 1_000_000, mlpMaxSizes: 14 };

const dims = (what: string): Field[] => [
  { key: "m", label: "m (rows of A and C)", help: `Rows of the ${what} A and of the result C.`, kind: "u32", initial: "64" },
  { key: "n", label: "n (columns of B and C)", help: "Columns of B and of the result C.", kind: "u32", initial: "64" },
  { key: "k", label: "k (inner dimension)", help: "Columns of A, rows of B: the length of each dot product.", kind: "u32", initial: "64" },
];

export const KERNELS: KernelDef[] = [
  {
    id: 1,
    name: "matmul_f32",
    title: "Matrix multiply, f32",
    summary: "C = A·B in 32-bit floats; every element is one fused multiply-add chain over k, so every node's bytes are identical.",
    input: "A (m×k) then B (k×n), row-major little-endian f32.",
    output: "C (m×n), row-major little-endian f32.",
    fields: dims("f32 matrix"),
  },
  {
    id: 2,
    name: "matmul_i8",
    title: "Matrix multiply, int8",
    summary: "C = A·B with signed 8-bit inputs and wrapping 32-bit sums (exact on every backend).",
    input: "A (m×k) then B (k×n), row-major i8.",
    output: "C (m×n), row-major little-endian i32.",
    fields: dims("int8 matrix"),
  },
  {
    id: 3,
    name: "mlp_f32",
    title: "Dense network, f32",
    summary: "A batch through dense layers with bias and ReLU (none after the last layer).",
    input: "The batch (batch×s₀), then per layer its weights (sᵢ×sᵢ₊₁) and bias (sᵢ₊₁), little-endian f32.",
    output: "The last layer's activations (batch×s_L), little-endian f32.",
    fields: [
      { key: "batch", label: "batch (rows)", help: "Rows of the input batch.", kind: "u32", initial: "8" },
      { key: "layers", label: "layer sizes", help: "Widths s₀×s₁×…×s_L, 2 to 14 of them, e.g. 16x32x4.", kind: "sizes", initial: "16x32x4" },
    ],
  },
  {
    id: 4,
    name: "mandelbrot",
    title: "Mandelbrot set",
    summary: "Escape-time iteration counts of an image of the Mandelbrot set in f64. Needs no input.",
    input: "None.",
    output: "One little-endian u32 iteration count per pixel, row by row; shown as an image.",
    fields: [
      { key: "width", label: "width (px)", help: "Image width in pixels.", kind: "u32", initial: "256" },
      { key: "height", label: "height (px)", help: "Image height in pixels.", kind: "u32", initial: "192" },
      { key: "cx", label: "centre, real part", help: "Real coordinate of the image centre.", kind: "f64", initial: "-0.75" },
      { key: "cy", label: "centre, imaginary part", help: "Imaginary coordinate of the image centre.", kind: "f64", initial: "0" },
      { key: "scale", label: "scale", help: "Distance between neighbouring pixels (smaller zooms in).", kind: "f64", initial: "0.012" },
      { key: "max_iter", label: "iteration cap", help: `Iterations before a point counts as inside (1 to ${LIMITS.maxIter}).`, kind: "u32", initial: "200" },
    ],
  },
  {
    id: 5,
    name: "sha256_batch",
    title: "SHA-256 of a batch",
    summary: "SHA-256 of each of count messages of len bytes.",
    input: "count × len bytes: the messages back to back.",
    output: "count digests of 32 bytes.",
    fields: [
      { key: "count", label: "count (messages)", help: "Number of messages.", kind: "u32", initial: "4" },
      { key: "len", label: "len (bytes per message)", help: "Bytes in each message (0 allowed).", kind: "u32", initial: "16" },
    ],
  },
];

export function kernelById(id: number): KernelDef | undefined {
  return KERNELS.find((k) => k.id === id);
}

export function kernelByName(name: string): KernelDef | undefined {
  return KERNELS.find((k) => k.name === name);
}

/** Parsed parameters: numbers, and for `layers` a list of sizes. */
export type Params = Record<string, number | number[]>;

/** Parses the form's text values; throws an Error that names the field and what to write. */
export function parseParams(k: KernelDef, text: Record<string, string>): Params {
  const out: Params = {};
  for (const f of k.fields) {
    const raw = (text[f.key] ?? "").trim();
    if (f.kind === "u32") {
      if (!/^\d+$/.test(raw) || Number(raw) > 0xffff_ffff) {
        throw new Error(`${f.label}: "${raw}" is not a whole number`);
      }
      out[f.key] = Number(raw);
    } else if (f.kind === "f64") {
      const v = Number(raw);
      if (raw === "" || !Number.isFinite(v)) throw new Error(`${f.label}: "${raw}" is not a finite number`);
      out[f.key] = v;
    } else {
      const parts = raw.split(/[x×,\s]+/).filter(Boolean);
      if (!parts.every((p) => /^\d+$/.test(p))) {
        throw new Error(`${f.label}: write the widths separated by x, like 16x32x4`);
      }
      out[f.key] = parts.map(Number);
    }
  }
  const problem = validate(k, out);
  if (problem) throw new Error(problem);
  return out;
}

const num = (p: Params, key: string) => p[key] as number;
const sizes = (p: Params) => p.layers as number[];

/** What is wrong with `p` for kernel `k` (the nodes' limits), or null. */
export function validate(k: KernelDef, p: Params): string | null {
  const dim = (name: string, v: number) =>
    v < 1 || v > LIMITS.maxDim ? `${k.name}: ${name} = ${v} is outside 1..${LIMITS.maxDim}` : null;
  let problem: string | null = null;
  switch (k.id) {
    case 1:
    case 2:
      problem = dim("m", num(p, "m")) ?? dim("n", num(p, "n")) ?? dim("k", num(p, "k"));
      break;
    case 3: {
      problem = dim("batch", num(p, "batch"));
      const s = sizes(p);
      if (!problem && (s.length < 2 || s.length > LIMITS.mlpMaxSizes)) {
        problem = `mlp_f32 needs 2 to ${LIMITS.mlpMaxSizes} layer sizes, got ${s.length}`;
      }
      for (const v of s) problem ??= dim("layer size", v);
      break;
    }
    case 4:
      problem = dim("width", num(p, "width")) ?? dim("height", num(p, "height"));
      if (!problem && !(num(p, "scale") > 0)) problem = "mandelbrot: scale must be greater than 0";
      if (!problem && (num(p, "max_iter") < 1 || num(p, "max_iter") > LIMITS.maxIter)) {
        problem = `mandelbrot: the iteration cap must be 1 to ${LIMITS.maxIter}`;
      }
      break;
    case 5:
      if (num(p, "count") < 1) problem = "sha256_batch: count must be at least 1";
      break;
  }
  if (problem) return problem;
  if (inputLen(k, p) > LIMITS.maxBytes) return `${k.name}: the input would exceed ${LIMITS.maxBytes} bytes`;
  if (outputLen(k, p) > LIMITS.maxBytes) return `${k.name}: the output would exceed ${LIMITS.maxBytes} bytes`;
  return null;
}

/** The on-chain encoding of `p` (little-endian, as `KernelParams::encode`). */
export function encode(k: KernelDef, p: Params): Uint8Array {
  const out: number[] = [];
  const u32 = (v: number) => {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    out.push(...b);
  };
  const f64 = (v: number) => {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    out.push(...b);
  };
  switch (k.id) {
    case 1:
    case 2:
      ["m", "n", "k"].forEach((key) => u32(num(p, key)));
      break;
    case 3:
      u32(num(p, "batch"));
      out.push(sizes(p).length);
      sizes(p).forEach(u32);
      break;
    case 4:
      u32(num(p, "width"));
      u32(num(p, "height"));
      ["cx", "cy", "scale"].forEach((key) => f64(num(p, key)));
      u32(num(p, "max_iter"));
      break;
    case 5:
      u32(num(p, "count"));
      u32(num(p, "len"));
      break;
  }
  return Uint8Array.from(out);
}

/** Exact input size in bytes. */
export function inputLen(k: KernelDef, p: Params): number {
  switch (k.id) {
    case 1:
      return (num(p, "m") * num(p, "k") + num(p, "k") * num(p, "n")) * 4;
    case 2:
      return num(p, "m") * num(p, "k") + num(p, "k") * num(p, "n");
    case 3: {
      const s = sizes(p);
      let floats = num(p, "batch") * s[0];
      for (let i = 0; i + 1 < s.length; i++) floats += s[i] * s[i + 1] + s[i + 1];
      return floats * 4;
    }
    case 4:
      return 0;
    default:
      return num(p, "count") * num(p, "len");
  }
}

/** Exact output size in bytes. */
export function outputLen(k: KernelDef, p: Params): number {
  switch (k.id) {
    case 1:
    case 2:
      return num(p, "m") * num(p, "n") * 4;
    case 3:
      return num(p, "batch") * sizes(p)[sizes(p).length - 1] * 4;
    case 4:
      return num(p, "width") * num(p, "height") * 4;
    default:
      return num(p, "count") * 32;
  }
}

/** The protocol's work units (pricing.rs), as a bigint. */
export function workUnits(k: KernelDef, p: Params): bigint {
  const b = (key: string) => BigInt(num(p, key));
  switch (k.id) {
    case 1:
    case 2:
      return 2n * b("m") * b("n") * b("k");
    case 3: {
      const s = sizes(p).map(BigInt);
      let w = 0n;
      for (let i = 0; i + 1 < s.length; i++) w += 2n * b("batch") * s[i] * s[i + 1];
      return w;
    }
    case 4:
      return b("width") * b("height") * b("max_iter");
    default:
      return b("count") * 64n * ((b("len") + 9n + 63n) / 64n);
  }
}

/** Decodes on-chain params back into fields (for showing a job). */
export function decode(k: KernelDef, bytes: Uint8Array): Params | null {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    switch (k.id) {
      case 1:
      case 2:
        return { m: v.getUint32(0, true), n: v.getUint32(4, true), k: v.getUint32(8, true) };
      case 3: {
        const count = v.getUint8(4);
        return { batch: v.getUint32(0, true), layers: Array.from({ length: count }, (_, i) => v.getUint32(5 + 4 * i, true)) };
      }
      case 4:
        return {
          width: v.getUint32(0, true),
          height: v.getUint32(4, true),
          cx: v.getFloat64(8, true),
          cy: v.getFloat64(16, true),
          scale: v.getFloat64(24, true),
          max_iter: v.getUint32(32, true),
        };
      case 5:
        return { count: v.getUint32(0, true), len: v.getUint32(4, true) };
    }
  } catch {
    return null;
  }
  return null;
}

export function describeParams(k: KernelDef, p: Params): string {
  return k.fields
    .map((f) => `${f.key}=${Array.isArray(p[f.key]) ? (p[f.key] as number[]).join("x") : p[f.key]}`)
    .join(", ");
}
