import type { Tensor } from "../../tensor.ts";
import { toFloat } from "../util.ts";
import { mul } from "./binary.ts";
import { sigmoid } from "./unary.ts";

/** SiLU / swish: x·σ(x). */
export function silu(x: Tensor): Tensor {
  const xf = toFloat(x);
  return mul(xf, sigmoid(xf));
}
