/**
 * Attention parts shared by the decoder families: the additive causal + padding mask and
 * scaled dot-product attention with grouped-query heads.
 *
 * Shapes: B batch, H query heads, H_kv key/value heads (H a multiple of H_kv), T new
 * positions, S = past + T key positions, D head size.
 */
import {
  add,
  type DType,
  scaledDotProductAttention as fusedAttention,
  matmul,
  mul,
  reshape,
  softmax,
  type Tensor,
  tensor,
  to,
  transpose,
  unsqueeze,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";

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
  // Built on the host: a handful of loops over B·T·S numbers instead of a chain of int64
  // compare/select kernels on every forward pass (each decoding step builds one).
  const S = past + T;
  const min = maskValue(dtype);
  const rows = attentionMask ? (attentionMask.tolistSync() as number[][]) : null;
  if (rows && (attentionMask?.ndim !== 2 || rows.some((r) => r.length !== S))) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `decoderMask: 'attentionMask' must be [batch, ${S}] (past ${past} + new ${T}), got ${attentionMask?.describe()}`,
    );
  }
  const B = rows ? rows.length : 1;
  const values = new Float32Array(B * T * S);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const q = past + t;
      const row = (b * T + t) * S;
      for (let k = 0; k < S; k++) {
        const hidden = k > q || (slidingWindow ? k <= q - slidingWindow : false) || (rows ? !rows[b]?.[k] : false);
        values[row + k] = hidden ? min : 0;
      }
    }
  }
  const mask = tensor(values, { shape: [B, 1, T, S] });
  return dtype === "float32" ? mask : to(mask, dtype);
}

/**
 * What a decoder's self-attention masks: `"causal"` when the mask would hide only future keys
 * (no padding, no sliding window cutting into the keys), so the fused kernel skips those keys
 * instead of adding a `[T, S]` mask to every score (a 128-token GPT-2-small prefill spends 20%
 * less time in attention so); otherwise the additive mask of {@link decoderMask}.
 */
export type DecoderAttentionMask = Tensor | "causal";

/**
 * {@link decoderMask}'s mask, or `"causal"` when `attentionMask` is absent or all ones and no
 * `slidingWindow` hides a key: the two give the same attention (a masked score's weight is
 * exactly 0 either way).
 */
export function decoderAttentionMask(
  attentionMask: Tensor | null | undefined,
  T: number,
  past: number,
  dtype: DType,
  slidingWindow?: number | null,
): DecoderAttentionMask {
  const S = past + T;
  const windowHides = !!slidingWindow && S > slidingWindow;
  if (!windowHides && allOnes(attentionMask, S)) return "causal";
  return decoderMask(attentionMask, T, past, dtype, slidingWindow);
}

/** True when `attentionMask` is absent, or a `[B, S]` tensor with every entry non-zero. */
function allOnes(attentionMask: Tensor | null | undefined, S: number): boolean {
  if (!attentionMask) return true;
  if (attentionMask.ndim !== 2 || attentionMask.shape[1] !== S) return false; // decoderMask reports it
  const values = attentionMask.dataSync();
  for (let i = 0; i < values.length; i++) if (!values[i]) return false;
  return true;
}

/**
 * `[B, T, n·D]` → `[B, n, T, D]`, the heads of a projection (a view). A module-level function
 * rather than a closure made in each forward: tsx (esbuild's keepNames) names every function
 * object it creates, a defineProperty per closure on a decoding step's path.
 */
export function toHeads(t: Tensor, n: number): Tensor {
  const [B, T, C] = t.shape as [number, number, number];
  return transpose(reshape(t, [B, T, n, C / n]), 1, 2);
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
 * `mask` `"causal"` lets query t see keys up to S − T + t (see {@link decoderAttentionMask}).
 *
 * Returns the output `[B, H, T, D]` and, when asked, the probabilities `[B, H, T, S]`.
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: DecoderAttentionMask,
  scale: number,
  options: { returnProbs?: boolean; dropout?: (probs: Tensor) => Tensor } = {},
): { output: Tensor; probs?: Tensor } {
  if (!options.returnProbs && !options.dropout) {
    const opts = mask === "causal" ? { isCausal: true, scale } : { mask, scale };
    return { output: fusedAttention(q, k, v, opts) };
  }
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const Hkv = k.shape[1] as number;
  const S = k.shape[2] as number;
  if (mask === "causal") mask = decoderMask(null, T, S - T, q.dtype);
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
