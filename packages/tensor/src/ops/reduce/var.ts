/** Variance and standard deviation. */
import { normalizeDims, numel } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { div, mul, sub } from "../elementwise/binary.ts";
import { sqrt } from "../elementwise/unary.ts";
import { toFloat } from "../util.ts";
import { type Dims, mean, sum } from "./sum.ts";

/** Options of var/std. */
export interface VarOptions {
  /** Subtracted from the count in the denominator: 1 (default) is unbiased, 0 is the population variance. */
  correction?: number;
  keepdim?: boolean;
}

/** Variance over `dims`: Σ(x − mean)² / (N − correction). */
export function variance(x: Tensor, dims?: Dims, opts: VarOptions = {}): Tensor {
  const xf = toFloat(x);
  const ds = normalizeDims("var", dims, x.ndim);
  const n = numel(ds.map((d) => x.shape[d] as number));
  const centered = sub(xf, mean(xf, ds, true));
  return div(sum(mul(centered, centered), ds, opts.keepdim ?? false), Math.max(0, n - (opts.correction ?? 1)));
}

/** Standard deviation over `dims`: √var. */
export function std(x: Tensor, dims?: Dims, opts: VarOptions = {}): Tensor {
  return sqrt(variance(x, dims, opts));
}
