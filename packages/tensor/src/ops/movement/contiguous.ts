import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/** `x` itself when row-major contiguous, else a contiguous copy. */
export function contiguous(x: Tensor): Tensor {
  return x.isContiguous() ? x : apply1("contiguous", [x]);
}

/** Always a fresh contiguous copy (gradients flow through it). */
export function clone(x: Tensor): Tensor {
  return apply1("contiguous", [x]);
}
