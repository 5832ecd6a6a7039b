import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { checkTensor, promote, type TensorLike } from "../util.ts";

/**
 * Elementwise choice: `a` where `condition` is true, `b` elsewhere (all three broadcast).
 *
 * @example
 * const y = where(gt(x, 0), x, 0);
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  checkTensor("where", "condition", condition);
  if (condition.dtype !== "bool") {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `where: argument 'condition' must be a bool tensor, got ${condition.describe()}`,
    );
  }
  const [x, y] = promote("where", a, b);
  return apply1("where", [condition, x, y]);
}

/** `x` with `value` written where `mask` (bool, broadcastable) is true. */
export function maskedFill(x: Tensor, mask: Tensor, value: number): Tensor {
  checkTensor("maskedFill", "mask", mask);
  if (mask.dtype !== "bool") {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `maskedFill: argument 'mask' must be bool, got ${mask.describe()}`,
    );
  }
  const r = where(mask, value, x);
  return r;
}
