/**
 * The addon's kernels that take every dtype (`native/kernels/{cast,cumsum,sort,arg-reduce,random}.h` and
 * the typed scatterAdd), typed apart from {@link NativeAddon} so they can grow without touching
 * the shared interface. Views are (typed array, element offset, element strides) over a shape;
 * outputs are row-major contiguous. Each `dtype` argument names the elements of its typed array
 * (float16/bfloat16 as raw bits in a Uint16Array, int64 in a BigInt64Array, bool as bytes).
 */
import type { DType } from "../dtype.ts";
import { type NativeAddon, native } from "./index.ts";

/** Kernels over any dtype. */
export interface AnyDTypeAddon {
  /** `out = x` converted to `outDtype` exactly as the js `cast` kernel converts. */
  cast(
    x: ArrayBufferView,
    xDtype: DType,
    xOffset: number,
    xStrides: readonly number[],
    out: ArrayBufferView,
    outDtype: DType,
    shape: readonly number[],
  ): void;
  /** Running sum along `dim` into `out` (x's dtype for floats, int64 for integers and bool). */
  cumsum(
    x: ArrayBufferView,
    dtype: DType,
    xOffset: number,
    xStrides: readonly number[],
    shape: readonly number[],
    dim: number,
    reverse: boolean,
    out: ArrayBufferView,
  ): void;
  /** Stable sort along `dim` (NaN largest) into `values` (x's dtype) and int64 `indices`. */
  sort(
    x: ArrayBufferView,
    dtype: DType,
    xOffset: number,
    xStrides: readonly number[],
    shape: readonly number[],
    dim: number,
    descending: boolean,
    values: ArrayBufferView,
    indices: BigInt64Array,
  ): void;
  /** Integer `out = op(x)` (neg abs sign relu; int8/uint8/int32/int64); false when not taken. */
  intUnary(
    op: string,
    dtype: DType,
    x: ArrayBufferView,
    xOffset: number,
    xStrides: readonly number[],
    out: ArrayBufferView,
    shape: readonly number[],
  ): boolean;
  /**
   * Integer `out = op(a, b)` for views broadcast to `shape`: add sub mul div maximum minimum
   * (wrapping, into `dtype`) or eq ne lt le gt ge (into bool bytes; bool inputs too); false
   * when not taken (pow).
   */
  intBinary(
    op: string,
    dtype: DType,
    a: ArrayBufferView,
    aOffset: number,
    aStrides: readonly number[],
    b: ArrayBufferView,
    bOffset: number,
    bStrides: readonly number[],
    out: ArrayBufferView,
    shape: readonly number[],
  ): boolean;
  /** Integer/bool `sum` (into int64) or `amax`/`amin` (into `dtype`) over `dims`; false when not taken. */
  intReduce(
    op: string,
    dtype: DType,
    x: ArrayBufferView,
    xOffset: number,
    xStrides: readonly number[],
    shape: readonly number[],
    dims: readonly number[],
    out: ArrayBufferView,
  ): boolean;
  /** First position of the largest (argmax) or smallest (argmin) value along `dim`; NaN wins. */
  argReduce(
    op: "argmax" | "argmin",
    x: ArrayBufferView,
    dtype: DType,
    xOffset: number,
    xStrides: readonly number[],
    shape: readonly number[],
    dim: number,
    out: BigInt64Array,
  ): void;
  /**
   * Fills `n` elements of `out` with the js generator's stream for `seed` ("uniform":
   * `a + (b − a)·U`, floored for integer dtypes; "normal": `a + b·N`). Returns the
   * `(index, u, v)` triples of normals whose rounding depends on the last ulp of log/sin/cos,
   * for the caller to finish with JavaScript's Math, or null.
   */
  randomFill(
    out: ArrayBufferView,
    dtype: DType,
    n: number,
    distribution: "uniform" | "normal",
    seed: number,
    a: number,
    b: number,
  ): Float64Array | null;
  /** The Box–Muller variant of the random fill: "avx512", "avx2" or "generic" (the C library's). */
  randomKernel(): string;
  /** Forces a random-fill variant ("" restores the automatic choice); false when the CPU lacks it. */
  selectRandomKernel(name: string): boolean;
  /** `scatterAdd` of {@link NativeAddon} for any dtype (integers wrap, bool ORs). */
  scatterAdd(
    out: ArrayBufferView,
    outShape: readonly number[],
    index: BigInt64Array | Int32Array,
    indexOffset: number,
    indexStrides: readonly number[],
    src: ArrayBufferView,
    srcOffset: number,
    srcStrides: readonly number[],
    shape: readonly number[],
    dim: number,
    dtype: DType,
  ): void;
}

/** The addon with its any-dtype kernels, or `null` when it is unavailable. */
export const anyDTypeNative = native as (NativeAddon & AnyDTypeAddon) | null;
