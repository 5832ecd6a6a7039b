import type { Tensor } from "../../tensor.ts";
import { mul, sub } from "../elementwise/binary.ts";
import { mean, sum } from "../reduce/sum.ts";

/** Mean (or summed, or per-element) squared error. */
export function mseLoss(input: Tensor, target: Tensor, reduction: "mean" | "sum" | "none" = "mean"): Tensor {
  const d = sub(input, target);
  const sq = mul(d, d);
  return reduction === "none" ? sq : reduction === "sum" ? sum(sq) : mean(sq);
}
