import { type DType, promoteTypes } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { cast, toFloat } from "../util.ts";

/**
 * `x` (as a float) and the present parameters cast to one promoted dtype, as the composition
 * `norm(x) · weight + bias` would give.
 */
export function normInputs(x: Tensor, params: readonly (Tensor | null | undefined)[]): Tensor[] {
  const xf = toFloat(x);
  const present = params.filter((p): p is Tensor => p != null);
  const dtype = present.reduce<DType>((d, p) => promoteTypes(d, p.dtype), xf.dtype);
  return [xf, ...present].map((t) => cast(t, dtype));
}
