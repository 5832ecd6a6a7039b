import { noGrad } from "../../autograd/grad-mode.ts";
import { getKernel } from "../../backends/registry.ts";
import { HearthTensorError } from "../../errors.ts";
import { broadcastShapes, fmt } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { broadcastView } from "../primitives.ts";
import { cast } from "../util.ts";

/**
 * Writes `src` (broadcast to `dst`'s shape, converted to its dtype) into `dst`'s memory, in
 * place and outside autograd. Used by `loadStateDict` and optimisers. Returns `dst`.
 */
export function copy_(dst: Tensor, src: Tensor): Tensor {
  const shape = broadcastShapes("copy_", dst.shape, src.shape);
  if (shape.length !== dst.ndim || shape.some((s, i) => s !== dst.shape[i])) {
    throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `copy_: cannot copy ${src.describe()} into ${fmt(dst.shape)}`);
  }
  // Only a cast is an op (kept off the tape); a closure for noGrad is made only then, since tsx
  // (esbuild's keepNames) names every function object it creates and a decoding step copies
  // into its KV cache twice per layer.
  const s = src.dtype === dst.dtype ? src : noGrad(() => cast(src, dst.dtype));
  getKernel("contiguous").fn({ inputs: [broadcastView(s, dst.shape)], outputs: [dst.view_()], attrs: {} });
  dst.storage.bumpVersion();
  if (s !== src) s.dispose();
  return dst;
}
