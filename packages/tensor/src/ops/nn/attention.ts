import { isGradEnabled, recordsBackward } from "../../autograd/grad-mode.ts";
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { ones } from "../creation/fill.ts";
import { add, mul } from "../elementwise/binary.ts";
import { where } from "../elementwise/where.ts";
import { transpose } from "../movement/permute.ts";
import { reshape } from "../movement/reshape.ts";
import { tril } from "../movement/tril.ts";
import { softmax } from "../reduce/softmax.ts";
import { matmul } from "./matmul.ts";

/** Options of {@link scaledDotProductAttention}. */
export interface AttentionOptions {
  /** Additive float mask or boolean keep-mask, broadcastable to [..., Tq, Tk]. */
  mask?: Tensor | null;
  /** Masks keys after each query's position (query i sees keys 0..i + Tk − Tq). */
  isCausal?: boolean;
  /** Score scale (default 1/√D). */
  scale?: number;
}

/** q, k, v (and the mask) as the 4-d [B, H, T, D] operands of the fused primitive, or null when they do not fit it. */
function asFused(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null | undefined) {
  const nd = q.ndim;
  if (nd < 2 || nd > 4 || k.ndim !== nd || v.ndim !== nd || (mask && mask.ndim > nd)) return null;
  if (mask?.requiresGrad && isGradEnabled()) return null; // the fused backward gives the mask no gradient
  if (mask && mask.dtype !== "bool" && mask.dtype !== q.dtype) return null; // the composite promotes
  if (nd === 4 && (k.shape[0] !== q.shape[0] || v.shape[0] !== q.shape[0])) return null;
  if (nd === 3 && (k.shape[0] !== q.shape[0] || v.shape[0] !== q.shape[0])) return null;
  let m = mask ?? undefined;
  if (m && nd === 3 && m.ndim === 3) m = reshape(m, [m.shape[0] as number, 1, ...m.shape.slice(-2)]);
  return { q: up4(q), k: up4(k), v: up4(v), mask: m };
}

// Module-level rather than a closure per call: tsx (esbuild's keepNames) names every function
// object it creates, a defineProperty per closure on the decoding path's hottest calls.
/** A rank-2 or rank-3 operand as the primitive's [B, 1, T, D] (rank 4 as it is). */
function up4(t: Tensor): Tensor {
  const nd = t.ndim;
  return nd === 4 ? t : reshape(t, [nd === 3 ? (t.shape[0] as number) : 1, 1, ...t.shape.slice(-2)]);
}

/**
 * softmax(q·kᵀ·scale + mask)·v for q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]
 * (Vaswani et al., 2017), as PyTorch's `scaled_dot_product_attention` without dropout.
 *
 * Rank 2 to 4 inputs run the fused `attention` primitive: one pass over the keys with an online
 * softmax (no [Tq, Tk] score matrix), grouped-query heads when k and v have fewer heads than q
 * (q [B, H, T, D], k/v [B, G, S, D], H a multiple of G; PyTorch's `enable_gqa`), and a
 * recomputing backward. Other ranks, broadcast batch dims and masks that need a gradient use
 * the composite (matmul, softmax, matmul).
 *
 * @example
 * const out = scaledDotProductAttention(q, k, v, { isCausal: true }); // [B, H, T, Dv]
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.ndim - 1] as number;
  if (k.shape[k.ndim - 1] !== d) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `scaledDotProductAttention: q ${q.describe()} and k ${k.describe()} must share the last dim`,
    );
  }
  const scale = opts.scale ?? 1 / Math.sqrt(d);
  const fused = asFused(q, k, v, opts.mask);
  if (fused) {
    const inputs = [fused.q, fused.k, fused.v, ...(fused.mask ? [fused.mask] : [])];
    // the primitive writes [B, T, H, E]: the [B, H, T, E] result is its transposed view, which a
    // caller merging heads (transpose back, reshape to [B, T, H·E]) reads without a copy
    const out = apply("attention", inputs, { scale, causal: opts.isCausal ?? false })[0] as Tensor;
    return q.ndim === 4 ? transpose(out, 1, 2) : reshape(out, [...q.shape.slice(0, -1), v.shape[v.ndim - 1] as number]);
  }
  return compositeAttention(q, k, v, { ...opts, scale });
}

/** Options of {@link cachedAttention}. */
export interface CachedAttentionOptions extends AttentionOptions {
  /** Positions the caches already hold: the new keys and values go to [past, past + T). */
  past: number;
}

/**
 * One decoding step's self-attention against a key/value cache, in one op: writes the new keys
 * `k` [B, G, T, D] and values `v` [B, G, T, E] into `keyCache` [B, G, C, D] and `valueCache`
 * [B, G, C, E] (pre-allocated, capacity C ≥ past + T; written in place) at positions
 * [past, past + T), then attends q [B, H, T, D] over their first past + T positions as
 * {@link scaledDotProductAttention} does (grouped-query heads, `isCausal`, an additive or boolean
 * `mask` broadcastable to [B, H, T, past + T]). q, k and v may be strided views (the heads of a
 * fused qkv projection's output need no copy).
 *
 * Returns the output as [B, T, H, E] — positions before heads, so merging the heads into
 * [B, T, H·E] is a reshape without a copy. Inference only: refuses inputs that need a gradient.
 *
 * @example
 * const out = cachedAttention(q, k, v, keys, values, { past: 17, isCausal: true }); // [B, T, H, E]
 */
export function cachedAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  keyCache: Tensor,
  valueCache: Tensor,
  opts: CachedAttentionOptions,
): Tensor {
  const scale = opts.scale ?? 1 / Math.sqrt(q.shape[q.ndim - 1] as number);
  return applyCachedAttention("cachedAttention", [q, k, v], keyCache, valueCache, opts, { scale });
}

/** Options of {@link cachedAttentionQkv}: those of {@link cachedAttention} and the head counts. */
export interface CachedAttentionQkvOptions extends CachedAttentionOptions {
  /** Query heads H. */
  heads: number;
  /** Key/value heads G (H a multiple of G; H for plain multi-head attention). */
  kvHeads: number;
}

/**
 * {@link cachedAttention} on one fused projection: `qkv` [B, T, (H + 2G)·D] holds per position
 * the H query heads, then the G key heads, then the G value heads (GPT-2's `c_attn` output), and
 * the result is [B, T, H·D], the heads merged. The same values as splitting `qkv` into heads
 * with views, calling `cachedAttention` and reshaping its output, in one op call instead of
 * seven (a decoding step runs one per layer). Inference only.
 *
 * @example
 * const out = cachedAttentionQkv(qkv, keys, values, { heads: 12, kvHeads: 12, past: 17, isCausal: true }); // [B, T, 768]
 */
export function cachedAttentionQkv(
  qkv: Tensor,
  keyCache: Tensor,
  valueCache: Tensor,
  opts: CachedAttentionQkvOptions,
): Tensor {
  const D = (qkv.shape[qkv.ndim - 1] as number) / (opts.heads + 2 * opts.kvHeads);
  const scale = opts.scale ?? 1 / Math.sqrt(D);
  const qkvHeads: [number, number] = [opts.heads, opts.kvHeads];
  return applyCachedAttention("cachedAttentionQkv", [qkv], keyCache, valueCache, opts, { scale, qkvHeads });
}

/**
 * The `cachedAttention` primitive on `leading` (q, k, v, or the fused qkv with `qkvHeads`), the
 * caches and `opts.mask`: refuses inputs that need a gradient (the op is inference only, named
 * `fn` in the error), and marks the caches written.
 */
function applyCachedAttention(
  fn: string,
  leading: Tensor[],
  keyCache: Tensor,
  valueCache: Tensor,
  opts: CachedAttentionOptions,
  attrs: { scale: number; qkvHeads?: [number, number] },
): Tensor {
  if (recordsBackward(leading) || (opts.mask?.requiresGrad && isGradEnabled())) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${fn}: inputs need a gradient, but the op is inference only (run it under noGrad, or use scaledDotProductAttention)`,
    );
  }
  const inputs = [...leading, keyCache, valueCache, ...(opts.mask ? [opts.mask] : [])];
  const out = apply("cachedAttention", inputs, {
    scale: attrs.scale,
    qkvHeads: attrs.qkvHeads,
    causal: opts.isCausal ?? false,
    past: opts.past,
  })[0] as Tensor;
  keyCache.storage.bumpVersion();
  valueCache.storage.bumpVersion();
  return out;
}

/**
 * The composite form of {@link scaledDotProductAttention} (materialises the score matrix): the
 * oracle the fused primitive is tested against, and the path for masks that need a gradient.
 */
export function compositeAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.ndim - 1] as number;
  let scores = mul(matmul(q, transpose(k, -2, -1)), opts.scale ?? 1 / Math.sqrt(d));
  const tq = q.shape[q.ndim - 2] as number;
  const tk = k.shape[k.ndim - 2] as number;
  if (opts.isCausal) scores = where(tril(ones([tq, tk], { dtype: "bool" }), tk - tq), scores, Number.NEGATIVE_INFINITY);
  if (opts.mask) {
    scores = opts.mask.dtype === "bool" ? where(opts.mask, scores, Number.NEGATIVE_INFINITY) : add(scores, opts.mask);
  }
  return matmul(softmax(scores, -1), v);
}
