/** Sorting: sort, topk. */
import { HearthTensorError } from "../../errors.ts";
import { normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { narrow } from "../movement/slice.ts";
import type { ValuesIndices } from "./max.ts";

/** Stable sort along `dim` (ascending unless `descending`); NaN sorts as the largest value. */
export function sort(x: Tensor, dim = -1, descending = false): ValuesIndices {
  const [values, indices] = apply("sort", [x], { dim, descending }) as [Tensor, Tensor];
  return { values, indices };
}

/** The `k` largest (or smallest) elements along `dim`, in order, with their indices. */
export function topk(x: Tensor, k: number, dim = -1, largest = true): ValuesIndices {
  const d = normalizeDim("topk", dim, x.ndim);
  const size = x.ndim === 0 ? 1 : (x.shape[d] as number);
  if (!Number.isInteger(k) || k < 0 || k > size) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `topk: argument 'k' must be an integer in [0, ${size}] for dim ${d} of ${x.describe()}, got ${k}`,
    );
  }
  const s = sort(x, d, largest);
  return { values: narrow(s.values, d, 0, k), indices: narrow(s.indices, d, 0, k) };
}
