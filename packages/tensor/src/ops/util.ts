/** Helpers for op wrappers: scalars as tensors and dtype promotion. */
import { type DType, isFloating, promoteTypes } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { Tensor } from "../tensor.ts";
import { apply1 } from "./apply.ts";
import { scalar } from "./creation/tensor.ts";

/** A tensor or a JS number (treated as a 0-d tensor that does not widen the other dtype). */
export type TensorLike = Tensor | number;

/** `x` converted to `dtype` (differentiable; returns `x` itself when it already has it). */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : apply1("cast", [x], { dtype });
}

/** The dtype a JS number takes next to a tensor of `other`. */
function scalarDType(v: number, other: DType): DType {
  if (isFloating(other)) return other;
  if (!Number.isInteger(v)) return "float32";
  return other === "bool" ? "int64" : other;
}

/** Two operands as tensors of one (promoted) dtype. */
export function promote(op: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (typeof a === "number" && typeof b === "number") return [scalar(a), scalar(b)];
  if (typeof a === "number") {
    const t = b as Tensor;
    const d = scalarDType(a, t.dtype);
    return [scalar(a, d), cast(t, d)];
  }
  if (typeof b === "number") {
    const d = scalarDType(b, a.dtype);
    return [cast(a, d), scalar(b, d)];
  }
  checkTensor(op, "a", a);
  checkTensor(op, "b", b);
  const d = promoteTypes(a.dtype, b.dtype);
  return [cast(a, d), cast(b, d)];
}

/** Throws a coded error unless `x` is a Tensor. */
export function checkTensor(op: string, arg: string, x: unknown): Tensor {
  if (!(x instanceof Tensor)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: argument '${arg}' must be a Tensor, got ${x === null ? "null" : typeof x}`,
    );
  }
  return x;
}

/** `x` as a floating tensor (integers become float32), for ops defined on reals. */
export function toFloat(x: Tensor): Tensor {
  return isFloating(x.dtype) ? x : cast(x, "float32");
}
