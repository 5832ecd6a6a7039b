import type { Tensor } from "../../tensor.ts";
import { add, mul } from "../elementwise/binary.ts";
import { rsqrt } from "../elementwise/rsqrt.ts";
import { mean } from "../reduce/sum.ts";
import { toFloat } from "../util.ts";

/** RMS normalisation (Zhang & Sennrich, 2019) over the last dim: x / √(mean(x²) + eps) · weight. */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6): Tensor {
  const xf = toFloat(x);
  const y = mul(xf, rsqrt(add(mean(mul(xf, xf), -1, true), eps)));
  return weight ? mul(y, weight) : y;
}
