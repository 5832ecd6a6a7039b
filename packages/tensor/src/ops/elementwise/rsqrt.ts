import type { Tensor } from "../../tensor.ts";
import { div } from "./binary.ts";
import { sqrt } from "./unary.ts";

/** 1 / √x. */
export function rsqrt(x: Tensor): Tensor {
  return div(1, sqrt(x));
}
