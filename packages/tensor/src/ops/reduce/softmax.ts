import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { toFloat } from "../util.ts";

/**
 * softmax along `dim`: exp(x − max) / Σ exp(x − max), one fused primitive (a row that holds a
 * NaN, or only −∞, gives NaN).
 *
 * @example
 * const probs = softmax(logits, -1);
 */
export function softmax(x: Tensor, dim = -1): Tensor {
  return apply1("softmax", [toFloat(x)], { dim });
}
