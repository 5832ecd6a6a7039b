/** Constant-filled tensors: zeros, ones, full and their `*Like` forms. */
import { writeNumbers } from "../../access.ts";
import { checkDType, type DType } from "../../dtype.ts";
import { checkShape } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { allocate } from "../apply.ts";
import type { CreateOptions } from "./tensor.ts";

/**
 * A tensor of `shape` filled with `value`.
 *
 * @example
 * const mask = full([4, 4], Number.NEGATIVE_INFINITY);
 */
export function full(shape: number[], value: number, opts?: CreateOptions): Tensor {
  const dtype = checkDType("full", "dtype", opts?.dtype ?? "float32");
  const t = allocate(checkShape("full", "shape", shape), dtype);
  if (value !== 0 && t.device !== "meta") {
    const d = t.view_().data;
    writeNumbers(d, dtype, [value]);
    if (dtype === "int64") (d as BigInt64Array).fill((d as BigInt64Array)[0] as bigint);
    else (d as Float32Array).fill((d as Float32Array)[0] as number);
  }
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/** Zeros of `shape`. */
export function zeros(shape: number[], opts?: CreateOptions): Tensor {
  return full(shape, 0, opts);
}

/** Ones of `shape`. */
export function ones(shape: number[], opts?: CreateOptions): Tensor {
  return full(shape, 1, opts);
}

function like(t: Tensor, opts?: CreateOptions): CreateOptions {
  return { dtype: (opts?.dtype ?? t.dtype) as DType, requiresGrad: opts?.requiresGrad };
}

/** `full` with `t`'s shape and dtype. */
export function fullLike(t: Tensor, value: number, opts?: CreateOptions): Tensor {
  return full([...t.shape], value, like(t, opts));
}

/** Zeros with `t`'s shape and dtype. */
export function zerosLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full([...t.shape], 0, like(t, opts));
}

/** Ones with `t`'s shape and dtype. */
export function onesLike(t: Tensor, opts?: CreateOptions): Tensor {
  return full([...t.shape], 1, like(t, opts));
}
