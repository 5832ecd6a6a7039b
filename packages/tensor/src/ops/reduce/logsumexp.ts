import { normalizeDims } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { add, eq, sub } from "../elementwise/binary.ts";
import { abs, exp, log } from "../elementwise/unary.ts";
import { where } from "../elementwise/where.ts";
import { squeeze } from "../movement/reshape.ts";
import { toFloat } from "../util.ts";
import { amax } from "./max.ts";
import { type Dims, sum } from "./sum.ts";

/**
 * log Σ exp(x) over `dims`, stabilised by subtracting the (detached) maximum; an all −∞ slice
 * gives −∞, as in PyTorch.
 */
export function logsumexp(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  const xf = toFloat(x);
  const ds = normalizeDims("logsumexp", dims, xf.ndim);
  const m0 = amax(xf, ds, true).detach();
  const m = where(eq(abs(m0), Number.POSITIVE_INFINITY), 0, m0);
  const out = add(log(sum(exp(sub(xf, m)), ds, true)), m);
  return keepdim ? out : squeeze(out, ds);
}
