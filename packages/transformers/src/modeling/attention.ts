/**
 * Attention parts shared by the decoder families: the additive causal + padding mask and
 * scaled dot-product attention with grouped-query heads.
 *
 * Shapes: B batch, H query heads, H_kv key/value heads (H a multiple of H_kv), T new
 * positions, S = past + T key positions, D head size.
 */
import {
  add,
  arange,
  type DType,
  scaledDotProductAttention as fusedAttention,
  gt,
  le,
  matmul,
  mul,
  ne,
  reshape,
  softmax,
  sub,
  type Tensor,
  to,
  transpose,
  unsqueeze,
  where,
} from "@hearth/tensor";

/** The most negative finite value of a float dtype: what masked scores become (as Python's `finfo.min`). */
export function maskValue(dtype: DType): number {
  if (dtype === "float16") return -65504;
  if (dtype === "bfloat16") return -3.3895313892515355e38;
  return -3.4028234663852886e38;
}

/**
 * The additive mask `[B or 1, 1, T, S]`: 0 where query t (at absolute position past + t) may
 * see key s, the dtype's most negative value elsewhere. A key is visible when it is not in the
 * future, is not padding (`attentionMask[b, s] == 1`), and, with `slidingWindow`, lies within
 * the last `slidingWindow` positions. Every entry is exactly 0 or that value, so a fully
 * masked row (a padding query) stays finite.
 */
export function decoderMask(
  attentionMask: Tensor | null | undefined,
  T: number,
  past: number,
  dtype: DType,
  slidingWindow?: number | null,
): Tensor {
  const S = past + T;
  const min = maskValue(dtype);
  const keys = reshape(arange(0, S, 1, { dtype: "int64" }), [1, 1, 1, S]);
  const queries = reshape(arange(past, S, 1, { dtype: "int64" }), [1, 1, T, 1]);
  let mask = where(le(keys, queries), 0, min);
  if (slidingWindow) mask = where(gt(keys, sub(queries, slidingWindow)), mask, min);
  if (attentionMask) {
    const visible = ne(reshape(attentionMask, [attentionMask.shape[0] as number, 1, 1, S]), 0);
    mask = where(visible, mask, min);
  }
  return mask.dtype === dtype ? mask : to(mask, dtype);
}

/**
 * softmax(q·kᵀ·scale + mask)·v for q `[B, H, T, D]` and k, v `[B, H_kv, S, D]`. Query heads
 * are grouped over the key/value heads (head h reads kv head ⌊h / (H / H_kv)⌋), so keys and
 * values are never repeated in memory.
 *
 * Without `returnProbs` or `dropout` this is the engine's fused attention primitive (one pass
 * over the keys with an online softmax, no `[T, S]` score matrix; a decoding step reads the KV
 * cache's view in place). Asking for the probabilities or dropout on them materialises them
 * with the composite, folding the query group into the query length.
 *
 * Returns the output `[B, H, T, D]` and, when asked, the probabilities `[B, H, T, S]`.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor,
  scale: number,
  options: { returnProbs?: boolean; dropout?: (probs: Tensor) => Tensor } = {},
): { output: Tensor; probs?: Tensor } {
  if (!options.returnProbs && !options.dropout) return { output: fusedAttention(q, k, v, { mask, scale }) };
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const Hkv = k.shape[1] as number;
  const S = k.shape[2] as number;
  const g = H / Hkv;
  const qg = g === 1 ? q : reshape(q, [B, Hkv, g * T, D]);
  const scores = mul(matmul(qg, transpose(k, -1, -2)), scale);
  const masked = g === 1 ? add(scores, mask) : add(reshape(scores, [B, Hkv, g, T, S]), unsqueeze(mask, 2));
  const probs = softmax(masked, -1);
  const used = options.dropout ? options.dropout(probs) : probs;
  const out = matmul(g === 1 ? used : reshape(used, [B, Hkv, g * T, S]), v);
  return {
    output: g === 1 ? out : reshape(out, [B, H, T, D]),
    probs: options.returnProbs ? reshape(probs, [B, H, T, S]) : undefined,
  };
}
