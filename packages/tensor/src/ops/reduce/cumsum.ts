import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/** Running sum along `dim` (integers accumulate in int64). */
export function cumsum(x: Tensor, dim: number): Tensor {
  return apply1("cumsum", [x], { dim, reverse: false });
}
