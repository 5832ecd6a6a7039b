import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { rand } from "../creation/random.ts";
import { ge, mul } from "../elementwise/binary.ts";
import { cast } from "../util.ts";

/**
 * Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1−p)
 * when `training`; identity otherwise. Draws from the global generator (`manualSeed`).
 */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) {
    throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", `dropout: argument 'p' must be in [0, 1], got ${p}`);
  }
  if (!training || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const keepMask = cast(ge(rand([...x.shape]), p), x.dtype);
  return mul(mul(x, keepMask), 1 / (1 - p));
}
