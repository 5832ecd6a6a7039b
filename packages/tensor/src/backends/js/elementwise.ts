/**
 * Elementwise kernels of the `js` reference backend: every value is computed in float64 and
 * rounded once into the output dtype. Inputs arrive broadcast to the output shape.
 */
import { readNumbers, stridedOffsets, writeNumbers } from "../../access.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { rawCopy } from "./util.ts";

/** erf to double precision: a positive series for |x| < 6 (no cancellation), ±1 beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  // erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))
  let term = a;
  let sum = a;
  for (let n = 1; n < 200; n++) {
    term *= (2 * a * a) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-a * a) * sum;
}

const UNARY: Record<string, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  relu: (x) => (x > 0 || Number.isNaN(x) ? x : 0),
  erf,
};

const maxNaN = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.max(a, b));
const minNaN = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : Math.min(a, b));

const BINARY: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: maxNaN,
  minimum: minNaN,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};

function unaryKernel(f: (x: number) => number) {
  return ({ inputs: [x], outputs: [out] }: KernelArgs) => {
    if (!x || !out) return;
    const v = readNumbers(x);
    for (let i = 0; i < v.length; i++) v[i] = f(v[i] as number);
    writeNumbers(out.data, out.dtype, v);
  };
}

function binaryKernel(f: (a: number, b: number) => number) {
  return ({ inputs: [a, b], outputs: [out] }: KernelArgs) => {
    if (!a || !b || !out) return;
    const va = readNumbers(a);
    const vb = readNumbers(b);
    for (let i = 0; i < va.length; i++) va[i] = f(va[i] as number, vb[i] as number);
    writeNumbers(out.data, out.dtype, va);
  };
}

export const elementwiseKernels: KernelRecord[] = [
  ...Object.entries(UNARY).map(([op, f]) => ({ op, fn: unaryKernel(f) })),
  ...Object.entries(BINARY).map(([op, f]) => ({ op, fn: binaryKernel(f) })),
  {
    op: "where",
    fn: ({ inputs: [cond, a, b], outputs: [out] }: KernelArgs) => {
      if (!cond || !a || !b || !out) return;
      const c = readNumbers(cond);
      const oa = stridedOffsets(a.shape, a.strides, a.offset);
      const ob = stridedOffsets(b.shape, b.strides, b.offset);
      const da = a.data as Float32Array;
      const db = b.data as Float32Array;
      const d = out.data as Float32Array;
      for (let i = 0; i < c.length; i++)
        d[i] = c[i] ? (da[oa[i] as number] as number) : (db[ob[i] as number] as number);
    },
  },
  {
    op: "cast",
    fn: ({ inputs: [x], outputs: [out] }: KernelArgs) => {
      if (!x || !out) return;
      if (x.dtype === out.dtype) {
        rawCopy(x, out.data, stridedOffsets(out.shape, out.strides, out.offset));
        return;
      }
      if (x.dtype === "int64" && (out.dtype === "int32" || out.dtype === "int8" || out.dtype === "uint8")) {
        // wrap like a C cast, exactly, through BigInt
        const src = x.data as BigInt64Array;
        const offs = stridedOffsets(x.shape, x.strides, x.offset);
        const bits = out.dtype === "int32" ? 32 : 8;
        const signed = out.dtype !== "uint8";
        const d = out.data as Int32Array;
        for (let i = 0; i < offs.length; i++) {
          const v = src[offs[i] as number] as bigint;
          d[i] = Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
        }
        return;
      }
      writeNumbers(out.data, out.dtype, readNumbers(x));
    },
  },
  {
    op: "contiguous",
    fn: ({ inputs: [x], outputs: [out] }: KernelArgs) => {
      if (!x || !out) return;
      rawCopy(x, out.data, stridedOffsets(out.shape, out.strides, out.offset));
    },
  },
];
