import { isFloating } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { indexSelect } from "../movement/gather.ts";
import { reshape } from "../movement/reshape.ts";

/** Rows of `weight` [V, D] for the integer `ids` [...]: output [..., D]. */
export function embedding(ids: Tensor, weight: Tensor): Tensor {
  if (isFloating(ids.dtype)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `embedding: argument 'ids' must be an integer tensor, got ${ids.describe()}`,
    );
  }
  if (weight.ndim !== 2) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `embedding: argument 'weight' must be [V, D], got ${weight.describe()}`,
    );
  }
  const rows = indexSelect(weight, 0, reshape(ids, [-1]));
  return reshape(rows, [...ids.shape, weight.shape[1] as number]);
}
