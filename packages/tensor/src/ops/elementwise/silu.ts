import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { toFloat } from "../util.ts";

/** SiLU / swish: x·σ(x), one fused primitive. */
export function silu(x: Tensor): Tensor {
  return apply1("silu", [toFloat(x)]);
}
