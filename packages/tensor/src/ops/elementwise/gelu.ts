import type { Tensor } from "../../tensor.ts";
import { toFloat } from "../util.ts";
import { add, mul } from "./binary.ts";
import { erf, tanh } from "./unary.ts";

/**
 * GELU (Hendrycks & Gimpel, 2016). `approximate: "none"` is x·Φ(x) = ½x(1 + erf(x/√2));
 * `"tanh"` is ½x(1 + tanh(√(2/π)(x + 0.044715x³))) — GPT-2's `gelu_new`.
 */
export function gelu(x: Tensor, approximate: "none" | "tanh" = "none"): Tensor {
  const xf = toFloat(x);
  if (approximate === "tanh") {
    const inner = mul(add(xf, mul(mul(mul(xf, xf), xf), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(xf, 0.5), add(tanh(inner), 1));
  }
  return mul(mul(xf, 0.5), add(erf(mul(xf, Math.SQRT1_2)), 1));
}
