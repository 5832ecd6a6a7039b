import type { Tensor } from "../../tensor.ts";
import { add } from "../elementwise/binary.ts";
import { transpose } from "../movement/permute.ts";
import { matmul } from "./matmul.ts";

/** x·Wᵀ + b with `weight` [out, in] (PyTorch's layout) and optional `bias` [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = matmul(x, transpose(weight, 0, 1));
  return bias ? add(y, bias) : y;
}
