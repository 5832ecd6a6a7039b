import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/**
 * Constant padding, PyTorch's `F.pad` convention: `pads` lists (before, after) pairs starting
 * from the LAST dim, e.g. `[1, 1]` pads the last dim by one on each side.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `pad: argument 'pads' must hold pairs for at most ${x.ndim} dims of ${x.describe()}, got [${pads.join(", ")}]`,
    );
  }
  const pairs: [number, number][] = x.shape.map(() => [0, 0]);
  for (let i = 0; i < pads.length / 2; i++) pairs[x.ndim - 1 - i] = [pads[2 * i] as number, pads[2 * i + 1] as number];
  return apply1("pad", [x], { pads: pairs, value });
}
