import type { Tensor } from "../../tensor.ts";
import { transpose } from "../movement/permute.ts";
import { addmm, matmul, type ProductOptions } from "./matmul.ts";

/**
 * x·Wᵀ + b with `weight` [out, in] (PyTorch's layout) and optional `bias` [out] (added by the
 * product's own pass); `options` as {@link matmul}'s (a residual, an activation applied last).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: ProductOptions = {}): Tensor {
  const w = transpose(weight, 0, 1);
  return bias ? addmm(bias, x, w, options) : matmul(x, w, options);
}
