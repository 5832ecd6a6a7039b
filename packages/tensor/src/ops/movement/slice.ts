/** Slicing views: narrow, slice, split, chunk. */
import { HearthTensorError } from "../../errors.ts";
import { normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";

/** A view of `length` elements of `dim` starting at `start`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normalizeDim("narrow", dim, x.ndim);
  const s = start < 0 ? start + (x.shape[d] as number) : start;
  return apply1("slice", [x], { dim: d, start: s, end: s + length });
}

/**
 * A view of `start..end` (end exclusive; negatives count from the end, Python-style clamping)
 * along `dim`.
 *
 * @example
 * const lastTwo = x.slice(-1, -2); // x[..., -2:]
 */
export function slice(x: Tensor, dim: number, start = 0, end?: number): Tensor {
  const d = normalizeDim("slice", dim, x.ndim);
  const size = x.shape[d] as number;
  const s = clampIndex(start, size);
  const e = Math.max(s, clampIndex(end ?? size, size));
  return apply1("slice", [x], { dim: d, start: s, end: e });
}

/** A Python-style index into `size` elements (negatives from the end), clamped to 0..size. */
function clampIndex(v: number, size: number): number {
  return Math.min(size, Math.max(0, v < 0 ? v + size : v));
}

/** Splits into pieces of `sizeOrSections` elements (last may be smaller) or of the given sizes. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normalizeDim("split", dim, x.ndim);
  const size = x.shape[d] as number;
  let sizes: number[];
  if (typeof sizeOrSections === "number") {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_ARGUMENT",
        `split: argument 'sizeOrSections' must be a positive integer, got ${sizeOrSections}`,
      );
    }
    sizes = [];
    for (let s = 0; s < size; s += sizeOrSections) sizes.push(Math.min(sizeOrSections, size - s));
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total !== size) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `split: sections [${sizes.join(", ")}] sum to ${total}, but dim ${d} of ${x.describe()} has ${size}`,
      );
    }
  }
  let start = 0;
  return sizes.map((n) => {
    const t = apply1("slice", [x], { dim: d, start, end: start + n });
    start += n;
    return t;
  });
}

/** Splits into `chunks` pieces of equal size (the last may be smaller), like `torch.chunk`. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  const d = normalizeDim("chunk", dim, x.ndim);
  if (!Number.isInteger(chunks) || chunks <= 0) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `chunk: argument 'chunks' must be a positive integer, got ${chunks}`,
    );
  }
  return split(x, Math.max(1, Math.ceil((x.shape[d] as number) / chunks)), d);
}
