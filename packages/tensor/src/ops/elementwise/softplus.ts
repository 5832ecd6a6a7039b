import type { Tensor } from "../../tensor.ts";
import { toFloat } from "../util.ts";
import { div, gt, mul } from "./binary.ts";
import { exp, log1p } from "./unary.ts";
import { where } from "./where.ts";

/**
 * softplus(x) = log(1 + e^(βx)) / β, and x itself where βx > threshold (PyTorch's defaults:
 * β 1, threshold 20).
 */
export function softplus(x: Tensor, beta = 1, threshold = 20): Tensor {
  const xf = toFloat(x);
  const bx = mul(xf, beta);
  // clamp the exponent where the linear branch is taken, so exp cannot overflow there
  const big = gt(bx, threshold);
  const safe = where(big, 0, bx);
  return where(big, xf, div(log1p(exp(safe)), beta));
}
