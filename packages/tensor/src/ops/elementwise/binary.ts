/**
 * Binary elementwise ops with NumPy broadcasting and PyTorch-style type promotion. Numbers
 * are accepted on either side.
 */
import { isFloating } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { cast, promote, type TensorLike } from "../util.ts";

function binary(op: string) {
  return (a: TensorLike, b: TensorLike): Tensor => apply1(op, promote(op, a, b));
}

/** a + b. @example add(x, 1) */
export const add = binary("add");
/** a − b. */
export const sub = binary("sub");
/** a · b. */
export const mul = binary("mul");
/** a raised to b. */
export const pow = binary("pow");
/** Elementwise maximum (NaN propagates; ties split the gradient). */
export const maximum = binary("maximum");
/** Elementwise minimum. */
export const minimum = binary("minimum");
/** a == b (bool). */
export const eq = binary("eq");
/** a != b (bool). */
export const ne = binary("ne");
/** a < b (bool). */
export const lt = binary("lt");
/** a <= b (bool). */
export const le = binary("le");
/** a > b (bool). */
export const gt = binary("gt");
/** a >= b (bool). */
export const ge = binary("ge");

/** True division: integers are divided as float32, like PyTorch's `/`. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  let [x, y] = promote("div", a, b);
  if (!isFloating(x.dtype)) {
    x = cast(x, "float32");
    y = cast(y, "float32");
  }
  return apply1("div", [x, y]);
}
