/** Shape and stride arithmetic shared by ops, kernels and views. */
import { HearthTensorError } from "./errors.ts";

export type Shape = readonly number[];

/** Number of elements of `shape` (1 for a scalar). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const s of shape) n *= s;
  return n;
}

/** Row-major (C-contiguous) strides, in elements. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i] as number;
  }
  return strides;
}

/** Whether `strides` are row-major for `shape` (size-1 dims may have any stride). */
export function isContiguous(shape: Shape, strides: Shape): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    const size = shape[i] as number;
    if (size !== 1 && strides[i] !== expected) return false;
    expected *= size;
  }
  return true;
}

/** Whether two shapes are the same, dim by dim. */
export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** `[2,3]` formatted for messages. */
export function fmt(shape: Shape): string {
  return `[${shape.join(", ")}]`;
}

/**
 * NumPy broadcasting of any number of shapes; `op` names the caller in the error (a function
 * when the name costs something to build: it is called only to throw).
 */
export function broadcastShapes(op: string | (() => string), ...shapes: Shape[]): number[] {
  const nd = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(nd).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const d = nd - s.length + i;
      const a = out[d] as number;
      const b = s[i] as number;
      if (a === b || b === 1) continue;
      if (a === 1) out[d] = b;
      else {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${typeof op === "string" ? op : op()}: shapes ${shapes.map(fmt).join(" and ")} cannot be broadcast together (dim ${d}: ${a} vs ${b})`,
        );
      }
    }
  }
  return out;
}

/** Normalises a possibly negative `dim` for a tensor of rank `ndim`. */
export function normalizeDim(op: string, dim: number, ndim: number, arg = "dim"): number {
  const lo = ndim === 0 ? -1 : -ndim;
  const hi = ndim === 0 ? 0 : ndim - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: argument '${arg}' must be an integer in [${lo}, ${hi}] for a ${ndim}-d tensor, got ${dim}`,
    );
  }
  return dim < 0 ? dim + Math.max(ndim, 1) : dim;
}

/** Normalises a list of dims (or all dims when `dims` is undefined), sorted and unique. */
export function normalizeDims(op: string, dims: number | readonly number[] | undefined, ndim: number): number[] {
  if (dims === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof dims === "number" ? [dims] : dims;
  const out = [...new Set(list.map((d) => normalizeDim(op, d, ndim)))].sort((a, b) => a - b);
  return ndim === 0 ? [] : out;
}

/** Validates a user-provided shape. */
export function checkShape(op: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((s) => Number.isInteger(s) && s >= 0)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: argument '${arg}' must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  return [...shape];
}
