import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { toFloat } from "../util.ts";

/**
 * GELU (Hendrycks & Gimpel, 2016). `approximate: "none"` is x·Φ(x) = ½x(1 + erf(x/√2));
 * `"tanh"` is ½x(1 + tanh(√(2/π)(x + 0.044715x³))) — GPT-2's `gelu_new`. One fused primitive.
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  return apply1("gelu", [toFloat(x)], { approximate });
}
