/**
 * Element access for CPU storage: strided offsets, and reading/writing elements as JS numbers
 * with dtype decoding. Used by the `js` backend's kernels and by `Tensor.dataSync()`.
 */
import {
  bf16BitsToFloat,
  type DType,
  f16BitsToFloat,
  floatToBf16Bits,
  floatToF16Bits,
  type TypedArray,
} from "./dtype.ts";
import { isContiguous, numel, type Shape } from "./shape.ts";
import type { Storage } from "./storage.ts";

/** The fields of a tensor a kernel reads: storage elements plus the view's geometry. */
export interface StridedView {
  readonly dtype: DType;
  readonly shape: Shape;
  /** Strides in elements (0 along broadcast dims). */
  readonly strides: Shape;
  /** Offset of element [0, …, 0] in `data`, in elements. */
  readonly offset: number;
  /** The whole storage (not just the view's elements). */
  readonly data: TypedArray;
  /** The storage the view was taken of, where known (backends key data derived from it there). */
  readonly storage?: Storage;
}

/** Storage index of every element of the view, in row-major logical order. */
export function stridedOffsets(shape: Shape, strides: Shape, offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (isContiguous(shape, strides)) {
    for (let i = 0; i < n; i++) out[i] = offset + i;
    return out;
  }
  const idx = new Array<number>(nd).fill(0);
  let pos = offset;
  for (let i = 0; i < n; i++) {
    out[i] = pos;
    for (let d = nd - 1; d >= 0; d--) {
      idx[d] = (idx[d] as number) + 1;
      pos += strides[d] as number;
      if ((idx[d] as number) < (shape[d] as number)) break;
      pos -= (strides[d] as number) * (shape[d] as number);
      idx[d] = 0;
    }
  }
  return out;
}

/** The view's elements as numbers in row-major order (int64 beyond 2^53 loses precision). */
export function readNumbers(v: StridedView): Float64Array {
  const n = numel(v.shape);
  const out = new Float64Array(n);
  const src = v.data;
  const contiguous = isContiguous(v.shape, v.strides);
  const offs = contiguous ? null : stridedOffsets(v.shape, v.strides, v.offset);
  const at = (i: number) => (offs === null ? v.offset + i : (offs[i] as number));
  switch (v.dtype) {
    case "float16":
      for (let i = 0; i < n; i++) out[i] = f16BitsToFloat(src[at(i)] as number);
      break;
    case "bfloat16":
      for (let i = 0; i < n; i++) out[i] = bf16BitsToFloat(src[at(i)] as number);
      break;
    case "int64": {
      const s = src as BigInt64Array;
      for (let i = 0; i < n; i++) out[i] = Number(s[at(i)]);
      break;
    }
    default: {
      const s = src as Float32Array;
      if (offs === null) for (let i = 0; i < n; i++) out[i] = s[v.offset + i] as number;
      else for (let i = 0; i < n; i++) out[i] = s[offs[i] as number] as number;
    }
  }
  return out;
}

/** Encodes `values` into `data[start …]` as `dtype` (rounding floats, truncating integers). */
export function writeNumbers(data: TypedArray, dtype: DType, values: ArrayLike<number>, start = 0): void {
  const n = values.length;
  switch (dtype) {
    case "float16": {
      const d = data as Uint16Array;
      for (let i = 0; i < n; i++) d[start + i] = floatToF16Bits(values[i] as number);
      break;
    }
    case "bfloat16": {
      const d = data as Uint16Array;
      for (let i = 0; i < n; i++) d[start + i] = floatToBf16Bits(values[i] as number);
      break;
    }
    case "int64": {
      const d = data as BigInt64Array;
      for (let i = 0; i < n; i++) {
        const x = values[i] as number;
        d[start + i] = Number.isFinite(x) ? BigInt(Math.trunc(x)) : 0n;
      }
      break;
    }
    case "bool": {
      const d = data as Uint8Array;
      for (let i = 0; i < n; i++) d[start + i] = (values[i] as number) !== 0 ? 1 : 0;
      break;
    }
    default: {
      const d = data as Float32Array;
      for (let i = 0; i < n; i++) d[start + i] = values[i] as number;
    }
  }
}
