/** Shape-changing views: view, reshape, flatten, squeeze, unsqueeze. */
import { HearthTensorError } from "../../errors.ts";
import { fmt, normalizeDim, numel } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { viewStrides } from "../primitives.ts";
import { checkTensor } from "../util.ts";

function resolveShape(op: string, x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (out.some((s, i) => !Number.isInteger(s) || s < -1 || (s === -1 && i !== free))) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: argument 'shape' must be non-negative integers with at most one -1, got ${fmt(shape)}`,
    );
  }
  if (free >= 0) {
    const rest = numel(out.filter((_, i) => i !== free));
    if (rest === 0 || x.size % rest !== 0) {
      throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `${op}: cannot reshape ${x.describe()} into ${fmt(shape)}`);
    }
    out[free] = x.size / rest;
  }
  if (numel(out) !== x.size) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${op}: cannot reshape ${x.describe()} (${x.size} elements) into ${fmt(shape)} (${numel(out)} elements)`,
    );
  }
  return out;
}

/** A view with a new shape sharing memory; throws if the strides do not allow it. */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("view", "x", x);
  return apply1("reshape", [x], { shape: resolveShape("view", x, shape) });
}

/**
 * `x` with a new shape (one dim may be -1): a view when the layout allows, a copy otherwise.
 *
 * @example
 * const flat = x.reshape([-1]);
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  checkTensor("reshape", "x", x);
  const s = resolveShape("reshape", x, shape);
  const src = viewStrides(x.shape, x.strides, s) ? x : apply1("contiguous", [x]);
  return apply1("reshape", [src], { shape: s });
}

/** Merges dims `startDim..endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim("flatten", startDim, x.ndim, "startDim");
  const e = normalizeDim("flatten", endDim, x.ndim, "endDim");
  const shape = [...x.shape.slice(0, s), numel(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Removes size-1 dims (all, or the given one(s) when they have size 1). */
export function squeeze(x: Tensor, dim?: number | number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i)
      : (typeof dim === "number" ? [dim] : dim).map((d) => normalizeDim("squeeze", d, x.ndim));
  return apply1("reshape", [x], { shape: x.shape.filter((s, i) => !(dims.includes(i) && s === 1)) });
}

/** Inserts a size-1 dim at `dim` (negative counts from the end of the result). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normalizeDim("unsqueeze", dim, x.ndim + 1);
  const shape = [...x.shape];
  shape.splice(d, 0, 1);
  return apply1("reshape", [x], { shape });
}
