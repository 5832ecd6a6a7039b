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
  const at = (x: StridedView, c: StridedView): StridedView => ({
    ...c,
    shape: x.shape,
    offset: c.offset + past * (c.strides[2] as number),
  });
  const window = (c: StridedView): StridedView => ({
    ...c,
    shape: [c.shape[0], c.shape[1], S, c.shape[3]] as number[],
  });
  return {
    copies: [
      [k, at(k, kc)],
      [v, at(v, vc)],
    ],
    attend: mask ? [q, window(kc), window(vc), mask] : [q, window(kc), window(vc)],
  };
}
