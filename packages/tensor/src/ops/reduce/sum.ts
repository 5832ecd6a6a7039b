/** sum and mean over dims. */
import { normalizeDims, numel } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { div } from "../elementwise/binary.ts";
import { checkTensor, toFloat } from "../util.ts";

/** Dims to reduce: one, several, or all (undefined). */
export type Dims = number | readonly number[] | undefined;

/**
 * Sum over `dims` (all when omitted); integers sum to int64.
 *
 * @example
 * const rowSums = x.sum(-1, true); // [N, 1]
 */
export function sum(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  checkTensor("sum", "x", x);
  return apply1("sum", [x], { dims: normalizeDims("sum", dims, x.ndim), keepdim });
}

/** Mean over `dims` (all when omitted). */
export function mean(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  checkTensor("mean", "x", x);
  const ds = normalizeDims("mean", dims, x.ndim);
  const n = numel(ds.map((d) => x.shape[d] as number));
  return div(sum(toFloat(x), ds, keepdim), n);
}
