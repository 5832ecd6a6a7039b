/** Indexing: gather, scatterAdd, indexSelect. */
import { HearthTensorError } from "../../errors.ts";
import { normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { expand } from "./expand.ts";
import { reshape } from "./reshape.ts";

/** out[i][j] = x[index[i][j]][j] for dim 0 (and likewise for other dims). */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  return apply1("gather", [x, index], { dim });
}

/** A copy of `x` with `src` added at the positions `index` names along `dim`. */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  return apply1("scatterAdd", [x, index, src], { dim });
}

/**
 * Rows (or slices along `dim`) of `x` picked by the 1-d integer `index`.
 *
 * @example
 * const rows = indexSelect(weight, 0, tensor([3, 1], { dtype: "int64" }));
 */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const d = normalizeDim("indexSelect", dim, x.ndim);
  if (index.ndim !== 1) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `indexSelect: argument 'index' must be 1-d, got ${index.describe()}`,
    );
  }
  const shape = x.shape.map((_, i) => (i === d ? (index.shape[0] as number) : 1));
  const full = x.shape.map((s, i) => (i === d ? (index.shape[0] as number) : s));
  return gather(x, d, expand(reshape(index, shape), full));
}
