/**
 * Reference kernels of the fused attention primitives (`../../ops/nn/attention-primitive.ts`):
 * plain loops in float64, one query row at a time, so memory stays linear in the key length
 * (one score row of S numbers). out (and dout) are [B, T, H, E]; a packed backward writes one
 * [B, T, H + 2G, D] output. The backward recomputes each row's probabilities from the saved
 * log-sum-exp instead of keeping the [T, S] matrix.
 */
import { readNumbers, type StridedView, stridedOffsets, writeNumbers } from "../../access.ts";
import { bf16BitsToFloat, f16BitsToFloat } from "../../dtype.ts";
import type { AttentionAttrs, AttentionDims, CachedAttentionAttrs } from "../../ops/nn/attention-primitive.ts";
import { cachedAttentionSteps } from "../cached-attention.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { rawCopy } from "./util.ts";

/** Reads element [b, h, t, s] of the mask view broadcast to [B, H, T, S] (a keep flag is 0/1). */
function maskReader(m: StridedView | undefined): ((b: number, h: number, t: number, s: number) => number) | null {
  if (!m) return null;
  const [sb, sh, st, ss] = m.strides as [number, number, number, number];
  const decode = m.dtype === "bfloat16" ? bf16BitsToFloat : m.dtype === "float16" ? f16BitsToFloat : (x: number) => x;
  const data = m.data as Float32Array;
  return (b, h, t, s) => decode(data[m.offset + b * sb + h * sh + t * st + s * ss] as number);
}

function sizes(q: StridedView, k: StridedView, v: StridedView): AttentionDims {
  const [B, H, T, D] = q.shape as [number, number, number, number];
  return { B, H, G: k.shape[1] as number, T, S: k.shape[2] as number, D, E: v.shape[3] as number };
}

/**
 * The scaled, masked scores of query row (b, h, i) into `out` (length S; -Infinity where a key
 * is hidden by the causal rule or a false keep flag).
 */
function scoreRow(
  z: AttentionDims,
  Q: Float64Array,
  K: Float64Array,
  mask: ReturnType<typeof maskReader>,
  isBool: boolean,
  attrs: AttentionAttrs,
  b: number,
  h: number,
  i: number,
  out: Float64Array,
): void {
  const g = Math.floor(h / (z.H / z.G));
  const qo = ((b * z.H + h) * z.T + i) * z.D;
  for (let j = 0; j < z.S; j++) {
    if (attrs.causal && j > i + z.S - z.T) {
      out[j] = Number.NEGATIVE_INFINITY;
      continue;
    }
    const ko = ((b * z.G + g) * z.S + j) * z.D;
    let dot = 0;
    for (let d = 0; d < z.D; d++) dot += (Q[qo + d] as number) * (K[ko + d] as number);
    let s = dot * attrs.scale;
    if (mask) {
      const m = mask(b, h, i, j);
      if (isBool) s = m !== 0 ? s : Number.NEGATIVE_INFINITY;
      else s += m;
    }
    out[j] = s;
  }
}

/**
 * Beyond this magnitude the float32 lse has lost too much of its log-sum (|lse|·2⁻²⁴ > 6e-5) —
 * a row that sees only finfo.min scores saves lse = finfo.min, dropping its log(n) entirely —
 * so the backward recomputes such a row's max and log-sum from its scores instead.
 */
const LSE_EXACT_LIMIT = 1024;

/**
 * [max, log Σ exp(s − max)] of a score row with at least one finite score, kept apart: near
 * finfo.min their sum rounds the log-sum away even in float64.
 */
function rowMaxLogSum(s: Float64Array): [number, number] {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < s.length; j++) max = Math.max(max, s[j] as number);
  let sum = 0;
  for (let j = 0; j < s.length; j++) sum += Math.exp((s[j] as number) - max);
  return [max, Math.log(sum)];
}

function forward({ inputs, outputs, attrs }: KernelArgs<AttentionAttrs>): void {
  const [q, k, v, m] = inputs as [StridedView, StridedView, StridedView, StridedView | undefined];
  const [out, lse] = outputs as [StridedView, StridedView];
  const z = sizes(q, k, v);
  const Q = readNumbers(q);
  const K = readNumbers(k);
  const V = readNumbers(v);
  const mask = maskReader(m);
  const O = new Float64Array(z.B * z.H * z.T * z.E);
  const L = new Float64Array(z.B * z.H * z.T);
  const s = new Float64Array(z.S);
  for (let b = 0; b < z.B; b++) {
    for (let h = 0; h < z.H; h++) {
      const g = Math.floor(h / (z.H / z.G));
      for (let i = 0; i < z.T; i++) {
        const r = (b * z.H + h) * z.T + i;
        const o = ((b * z.T + i) * z.H + h) * z.E; // out is [B, T, H, E]
        scoreRow(z, Q, K, mask, m?.dtype === "bool", attrs, b, h, i, s);
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < z.S; j++) max = Math.max(max, s[j] as number);
        if (max === Number.NEGATIVE_INFINITY) {
          O.fill(Number.NaN, o, o + z.E);
          L[r] = Number.NEGATIVE_INFINITY;
          continue;
        }
        let sum = 0;
        for (let j = 0; j < z.S; j++) {
          const p = Math.exp((s[j] as number) - max);
          sum += p;
          const vo = ((b * z.G + g) * z.S + j) * z.E;
          for (let e = 0; e < z.E; e++) O[o + e] = (O[o + e] as number) + p * (V[vo + e] as number);
        }
        for (let e = 0; e < z.E; e++) O[o + e] = (O[o + e] as number) / sum;
        L[r] = max + Math.log(sum);
      }
    }
  }
  writeNumbers(out.data, out.dtype, O);
  writeNumbers(lse.data, "float32", L);
}

function backward({ inputs, outputs, attrs }: KernelArgs<AttentionAttrs>): void {
  const [q, k, v, out, lse, dout, m] = inputs as [
    StridedView,
    StridedView,
    StridedView,
    StridedView,
    StridedView,
    StridedView,
    StridedView | undefined,
  ];
  const [dqV, dkV, dvV] = outputs as [StridedView, StridedView | undefined, StridedView | undefined];
  const z = sizes(q, k, v);
  const Q = readNumbers(q);
  const K = readNumbers(k);
  const V = readNumbers(v);
  const O = readNumbers(out);
  const L = readNumbers(lse);
  const dO = readNumbers(dout);
  const mask = maskReader(m);
  const dQ = new Float64Array(Q.length);
  const dK = new Float64Array(K.length);
  const dV = new Float64Array(V.length);
  const s = new Float64Array(z.S);
  for (let b = 0; b < z.B; b++) {
    for (let h = 0; h < z.H; h++) {
      const g = Math.floor(h / (z.H / z.G));
      for (let i = 0; i < z.T; i++) {
        const r = (b * z.H + h) * z.T + i;
        const o = ((b * z.T + i) * z.H + h) * z.E; // out and dout are [B, T, H, E]
        const l = L[r] as number;
        if (l === Number.NEGATIVE_INFINITY) continue; // no visible key: no gradient
        scoreRow(z, Q, K, mask, m?.dtype === "bool", attrs, b, h, i, s);
        // p = exp(s − shift − logSum): the saved lse and 0, or a huge row's own max and log-sum.
        const [shift, logSum] = Math.abs(l) > LSE_EXACT_LIMIT ? rowMaxLogSum(s) : [l, 0];
        let delta = 0;
        for (let e = 0; e < z.E; e++) delta += (dO[o + e] as number) * (O[o + e] as number);
        for (let j = 0; j < z.S; j++) {
          const p = Math.exp((s[j] as number) - shift - logSum);
          if (p === 0) continue;
          const kvo = (b * z.G + g) * z.S + j;
          let dp = 0;
          for (let e = 0; e < z.E; e++) {
            const go = dO[o + e] as number;
            dV[kvo * z.E + e] = (dV[kvo * z.E + e] as number) + p * go;
            dp += go * (V[kvo * z.E + e] as number);
          }
          const ds = p * (dp - delta) * attrs.scale;
          for (let d = 0; d < z.D; d++) {
            dQ[r * z.D + d] = (dQ[r * z.D + d] as number) + ds * (K[kvo * z.D + d] as number);
            dK[kvo * z.D + d] = (dK[kvo * z.D + d] as number) + ds * (Q[r * z.D + d] as number);
          }
        }
      }
    }
  }
  if (!attrs.packed) {
    writeNumbers(dqV.data, dqV.dtype, dQ);
    writeNumbers((dkV as StridedView).data, dqV.dtype, dK);
    writeNumbers((dvV as StridedView).data, dqV.dtype, dV);
    return;
  }
  // one [B, T, H + 2G, D] output: per position, dq's H heads, then dk's and dv's G heads
  const W = z.H + 2 * z.G;
  const all = new Float64Array(z.B * z.T * W * z.D);
  const put = (src: Float64Array, heads: number, at: number) => {
    for (let b = 0; b < z.B; b++)
      for (let h = 0; h < heads; h++)
        for (let t = 0; t < z.T; t++)
          for (let d = 0; d < z.D; d++)
            all[((b * z.T + t) * W + at + h) * z.D + d] = src[((b * heads + h) * z.T + t) * z.D + d] as number;
  };
  put(dQ, z.H, 0);
  put(dK, z.G, z.H);
  put(dV, z.G, z.H + z.G);
  writeNumbers(dqV.data, dqV.dtype, all);
}

/** `cachedAttention`: k, v copied into the caches, then `forward` over their first past + T positions. */
function cached({ inputs, outputs, attrs }: KernelArgs<CachedAttentionAttrs>): void {
  const { copies, attend } = cachedAttentionSteps(inputs, attrs.past);
  for (const [x, c] of copies) rawCopy(x, c.data, stridedOffsets(x.shape, c.strides, c.offset));
  const [B, H, T] = (inputs[0] as StridedView).shape as [number, number, number];
  const lse = {
    dtype: "float32",
    shape: [B, H, T],
    strides: [H * T, T, 1],
    offset: 0,
    data: new Float32Array(B * H * T),
  } as const;
  forward({ inputs: attend, outputs: [outputs[0] as StridedView, lse], attrs });
}

/** The `js` records for `attention`, `attentionBackward` and `cachedAttention`. */
export const attentionKernels: KernelRecord[] = [
  { op: "attention", fn: forward },
  { op: "attentionBackward", fn: backward },
  { op: "cachedAttention", fn: cached },
];
