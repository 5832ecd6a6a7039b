/** Geometry shared by the backends' `cachedAttention` kernels (`../ops/nn/attention-primitive.ts`). */
import type { StridedView } from "../access.ts";

/**
 * What a `cachedAttention` kernel does, as views of its inputs: the two copies (new keys into
 * the key cache at [past, past + T), values likewise) and the inputs of an `attention` forward
 * over the caches' first past + T positions (q, the two cache windows, the mask if any).
 */
export function cachedAttentionSteps(
  inputs: readonly StridedView[],
  past: number,
): { copies: [src: StridedView, dst: StridedView][]; attend: StridedView[] } {
  const [q, k, v, kc, vc, mask] = inputs as [
    StridedView,
    StridedView,
    StridedView,
    StridedView,
    StridedView,
    StridedView?,
  ];
  const S = past + (k.shape[2] as number);
  return {
    copies: [
      [k, cacheView(kc, k.shape, past)],
      [v, cacheView(vc, v.shape, past)],
    ],
    attend: mask
      ? [q, cacheView(kc, windowShape(kc, S), 0), cacheView(vc, windowShape(vc, S), 0), mask]
      : [q, cacheView(kc, windowShape(kc, S), 0), cacheView(vc, windowShape(vc, S), 0)],
  };
}

// At module level, not closures made per call: tsx (esbuild's keepNames) names every function
// object it creates, a defineProperty each, and a decoding step runs this once per layer.

/** Cache `c` [B, G, C, D] seen as `shape` from position `from` on. */
function cacheView(c: StridedView, shape: StridedView["shape"], from: number): StridedView {
  return {
    dtype: c.dtype,
    data: c.data,
    shape,
    strides: c.strides,
    offset: c.offset + from * (c.strides[2] as number),
    storage: c.storage,
  };
}

/** `c`'s shape with its first S positions. */
function windowShape(c: StridedView, S: number): number[] {
  return [c.shape[0] as number, c.shape[1] as number, S, c.shape[3] as number];
}
