import type { Tensor } from "../../tensor.ts";
import { transpose } from "../movement/permute.ts";
import { addmm, matmul } from "./matmul.ts";

/** x·Wᵀ + b with `weight` [out, in] (PyTorch's layout) and optional `bias` [out] (added by the product's own pass). */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const w = transpose(weight, 0, 1);
  return bias ? addmm(bias, x, w) : matmul(x, w);
}
