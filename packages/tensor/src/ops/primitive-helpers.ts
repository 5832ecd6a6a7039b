/**
 * Validation and shape helpers for the primitive table (`primitives.ts`): messages naming the
 * op and its inputs, dtype checks, broadcast views, reduced shapes, conv geometry, and the
 * stride computation that decides whether a reshape can be a view.
 */
import type { StridedView } from "../access.ts";
import { type DType, isFloating } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { contiguousStrides, isContiguous } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

export function name(op: string, inputs: readonly Tensor[]): string {
  return `${op}(${inputs.map((t) => t.describe()).join(", ")})`;
}

export function requireFloat(op: string, t: Tensor, arg: string): void {
  if (!isFloating(t.dtype)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${op}: argument '${arg}' must be a floating tensor, got ${t.describe()}`,
    );
  }
}

export function sameDType(op: string, inputs: readonly Tensor[], names: readonly string[]): DType {
  const d = (inputs[0] as Tensor).dtype;
  inputs.forEach((t, i) => {
    if (t.dtype !== d) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_DTYPE",
        `${name(op, inputs)}: argument '${names[i]}' must have dtype ${d} like '${names[0]}', got ${t.dtype}`,
      );
    }
  });
  return d;
}

/** The view of `t` broadcast to `shape` (stride 0 along new and size-1 dims). */
export function broadcastView(t: Tensor, shape: readonly number[]): StridedView {
  const v = t.view_();
  const nd = shape.length;
  const strides = new Array<number>(nd).fill(0);
  for (let i = 0; i < t.ndim; i++) {
    const d = nd - t.ndim + i;
    strides[d] = t.shape[i] === shape[d] ? (t.strides[i] as number) : 0;
  }
  return { ...v, shape, strides };
}

/** Shape after reducing `dims` (kept as 1 with keepdim). */
export function reducedShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  const out: number[] = [];
  shape.forEach((s, i) => {
    if (!dims.includes(i)) out.push(s);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** Reshapes a reduced gradient back to rank with size-1 dims (for broadcasting). */
export function keepdimShape(shape: readonly number[], dims: readonly number[]): number[] {
  return shape.map((s, i) => (dims.includes(i) ? 1 : s));
}

export interface ConvAttrs {
  kernel: [number, number];
  stride: [number, number];
  padding: [number, number];
  dilation: [number, number];
}
export interface Col2imAttrs extends ConvAttrs {
  outputSize: [number, number];
}

export function convOut(size: number, k: number, s: number, pad: number, dil: number): number {
  return Math.floor((size + 2 * pad - dil * (k - 1) - 1) / s) + 1;
}

export function checkConvAttrs(op: string, attrs: ConvAttrs): void {
  for (const key of ["kernel", "stride", "padding", "dilation"] as const) {
    const v = attrs[key];
    const min = key === "padding" ? 0 : 1;
    if (!Array.isArray(v) || v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= min)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_ARGUMENT",
        `${op}: attribute '${key}' must be two integers >= ${min}, got ${JSON.stringify(v)}`,
      );
    }
  }
}

/** View geometry of reshape without copying, or null (PyTorch's stride computation). */
export function viewStrides(
  shape: readonly number[],
  strides: readonly number[],
  newShape: readonly number[],
): number[] | null {
  if (isContiguous(shape, strides)) return contiguousStrides(newShape);
  const out = new Array<number>(newShape.length);
  let viewD = newShape.length - 1;
  let chunkBase = strides[strides.length - 1] as number;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d] as number;
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || newShape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= newShape[viewD] as number;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1] as number;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  return viewD === -1 ? out : null;
}

export function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== "int64" && index.dtype !== "int32") {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${op}: argument 'index' must be an int64 or int32 tensor, got ${index.describe()}`,
    );
  }
}
