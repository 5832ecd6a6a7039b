import type { Tensor } from "../../tensor.ts";
import { div, sub } from "../elementwise/binary.ts";
import { exp } from "../elementwise/unary.ts";
import { toFloat } from "../util.ts";
import { amax } from "./max.ts";
import { sum } from "./sum.ts";

/**
 * softmax along `dim`: exp(x − max) / Σ exp(x − max). The max is detached: subtracting a
 * constant leaves softmax unchanged, so no gradient flows through it.
 *
 * @example
 * const probs = softmax(logits, -1);
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  const xf = toFloat(x);
  const e = exp(sub(xf, amax(xf, dim, true).detach()));
  return div(e, sum(e, dim, true));
}
