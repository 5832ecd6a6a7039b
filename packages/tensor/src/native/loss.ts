/**
 * The addon's fused loss kernels (`native/kernels/cross-entropy.h`), typed apart from
 * {@link NativeAddon} so the loss primitives can grow without touching the shared interface.
 */
import { type NativeAddon, native } from "./index.ts";

/**
 * The arguments both cross-entropy functions start with: float32 logits `x` [rows, cols] at
 * `xOffset` with row stride `rowStride` (unit column stride), int64/int32 `target` [rows], the
 * ignored class and the label smoothing ε.
 */
export type CrossEntropyRowsArgs = [
  x: Float32Array,
  xOffset: number,
  rowStride: number,
  rows: number,
  cols: number,
  target: BigInt64Array | Int32Array,
  targetOffset: number,
  targetStride: number,
  ignoreIndex: number,
  smoothing: number,
];

/** Fused cross-entropy over float32 logit rows. */
export interface LossAddon {
  /**
   * Per row n: `lse[n] = log Σ exp(x[n, :])` and
   * `loss[n] = lse[n] − (1 − ε)·x[n, t[n]] − ε·mean(x[n, :])`, 0 where `t[n] = ignoreIndex`.
   * A target outside [0, cols) that is not ignoreIndex throws with code HEARTH_TENSOR_INDEX.
   */
  crossEntropyRows(...args: [...CrossEntropyRowsArgs, loss: Float32Array, lse: Float32Array]): void;
  /** `dx[n, v] = g[n]·(exp(x[n, v] − lse[n]) − ε/V − (1 − ε)·[v = t[n]])`, 0 on ignored rows. */
  crossEntropyBackwardRows(
    ...args: [
      ...CrossEntropyRowsArgs,
      lse: Float32Array,
      lseOffset: number,
      lseStride: number,
      g: Float32Array,
      gOffset: number,
      gStride: number,
      dx: Float32Array,
    ]
  ): void;
}

/** The addon with its loss kernels, or `null` when it is unavailable. */
export const lossNative = native as (NativeAddon & LossAddon) | null;
