import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { ones } from "../creation/fill.ts";
import { add, mul } from "../elementwise/binary.ts";
import { where } from "../elementwise/where.ts";
import { transpose } from "../movement/permute.ts";
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

/**
 * softmax(q·kᵀ·scale + mask)·v for q [..., Tq, D], k [..., Tk, D], v [..., Tk, Dv]
 * (Vaswani et al., 2017), as PyTorch's `scaled_dot_product_attention` without dropout.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const d = q.shape[q.ndim - 1] as number;
  if (k.shape[k.ndim - 1] !== d) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `scaledDotProductAttention: q ${q.describe()} and k ${k.describe()} must share the last dim`,
    );
  }
  let scores = mul(matmul(q, transpose(k, -2, -1)), opts.scale ?? 1 / Math.sqrt(d));
  const tq = q.shape[q.ndim - 2] as number;
  const tk = k.shape[k.ndim - 2] as number;
  if (opts.isCausal) scores = where(tril(ones([tq, tk], { dtype: "bool" }), tk - tq), scores, Number.NEGATIVE_INFINITY);
  if (opts.mask) {
    scores = opts.mask.dtype === "bool" ? where(opts.mask, scores, Number.NEGATIVE_INFINITY) : add(scores, opts.mask);
  }
  return matmul(softmax(scores, -1), v);
}
