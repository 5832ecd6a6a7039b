import type { Tensor } from "../../tensor.ts";
import { gt, lt } from "./binary.ts";
import { where } from "./where.ts";

/**
 * Limits values to [min, max] (either bound may be omitted). Like PyTorch, the gradient is 1
 * inside the closed interval and 0 outside.
 */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  let y = x;
  if (min !== undefined) y = where(lt(y, min), min, y);
  if (max !== undefined) y = where(gt(y, max), max, y);
  return y;
}
