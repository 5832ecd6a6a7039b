/** Extremes: amax/amin, max/min (values and indices), argmax/argmin. */
import { normalizeDim, normalizeDims } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { reshape } from "../movement/reshape.ts";
import type { Dims } from "./sum.ts";

/** Maximum over `dims` (all when omitted); the gradient is shared among ties. */
export function amax(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  return apply1("amax", [x], { dims: normalizeDims("amax", dims, x.ndim), keepdim });
}

/** Minimum over `dims` (all when omitted). */
export function amin(x: Tensor, dims?: Dims, keepdim = false): Tensor {
  return apply1("amin", [x], { dims: normalizeDims("amin", dims, x.ndim), keepdim });
}

/** Index of the maximum along `dim`, or in the flattened tensor when `dim` is omitted (int64). */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) return apply1("argmax", [reshape(x, [-1])], { dim: 0, keepdim: false });
  return apply1("argmax", [x], { dim: normalizeDim("argmax", dim, x.ndim), keepdim });
}

/** Index of the minimum along `dim`, or in the flattened tensor when `dim` is omitted (int64). */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  if (dim === undefined) return apply1("argmin", [reshape(x, [-1])], { dim: 0, keepdim: false });
  return apply1("argmin", [x], { dim: normalizeDim("argmin", dim, x.ndim), keepdim });
}

/** Values and indices of a max/min along a dim. */
export interface ValuesIndices {
  values: Tensor;
  indices: Tensor;
}

/** Max along `dim` with its index (the first on ties). */
export function max(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return { values: amax(x, dim, keepdim), indices: argmax(x, dim, keepdim) };
}

/** Min along `dim` with its index (the first on ties). */
export function min(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return { values: amin(x, dim, keepdim), indices: argmin(x, dim, keepdim) };
}
