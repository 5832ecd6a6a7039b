/** Unary elementwise primitives. Float-only ops turn integer inputs into float32 first. */
import type { DType } from "../../dtype.ts";
import { checkDType } from "../../dtype.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { cast, checkTensor, toFloat } from "../util.ts";

function floatOp(op: string) {
  return (x: Tensor): Tensor => apply1(op, [toFloat(checkTensor(op, "x", x))]);
}
function numericOp(op: string) {
  return (x: Tensor): Tensor => apply1(op, [checkTensor(op, "x", x)]);
}

/** −x. */
export const neg = numericOp("neg");
/** |x|. */
export const abs = numericOp("abs");
/** −1, 0 or 1 (no gradient). */
export const sign = numericOp("sign");
/** max(x, 0). */
export const relu = numericOp("relu");
/** eˣ. */
export const exp = floatOp("exp");
/** Natural logarithm. */
export const log = floatOp("log");
/** log(1 + x), accurate for small x. */
export const log1p = floatOp("log1p");
/** √x. */
export const sqrt = floatOp("sqrt");
/** sin x. */
export const sin = floatOp("sin");
/** cos x. */
export const cos = floatOp("cos");
/** tanh x. */
export const tanh = floatOp("tanh");
/** 1 / (1 + e⁻ˣ). */
export const sigmoid = floatOp("sigmoid");
/** The error function. */
export const erf = floatOp("erf");

/**
 * `x` converted to `dtype` (floats to integers truncate toward zero; to 16-bit floats rounds
 * to nearest even). Differentiable between floating dtypes.
 *
 * @example
 * const h = x.to("bfloat16");
 */
export function to(x: Tensor, dtype: DType): Tensor {
  return cast(checkTensor("to", "x", x), checkDType("to", "dtype", dtype));
}
