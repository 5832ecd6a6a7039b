/** Broadcasting views. */
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/** A view broadcast to `shape` (size-1 dims repeat with stride 0; -1 keeps a dim). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return apply1("expand", [x], { shape: [...shape] });
}
