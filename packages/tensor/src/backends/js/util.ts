/** Helpers shared by the `js` kernels: raw (dtype-preserving) copies and coordinate walks. */
import { type StridedView, stridedOffsets } from "../../access.ts";
import type { TypedArray } from "../../dtype.ts";
import { contiguousStrides, type Shape } from "../../shape.ts";

/** Copies the view's elements bit-for-bit into `dst` at the storage indices `dstOffsets`. */
export function rawCopy(src: StridedView, dst: TypedArray, dstOffsets: Int32Array): void {
  const from = stridedOffsets(src.shape, src.strides, src.offset);
  const s = src.data as Float32Array;
  const d = dst as Float32Array;
  for (let i = 0; i < from.length; i++) d[dstOffsets[i] as number] = s[from[i] as number] as number;
}

/** The view with its dims reordered so that `last` come last (in order); returns the order. */
export function moveLast(v: StridedView, last: readonly number[]): { view: StridedView; perm: number[] } {
  const perm = v.shape.map((_, i) => i).filter((i) => !last.includes(i));
  perm.push(...last);
  return {
    view: { ...v, shape: perm.map((d) => v.shape[d] as number), strides: perm.map((d) => v.strides[d] as number) },
    perm,
  };
}

/** Offsets into a contiguous array of `shape` when walked in the order `perm`. */
export function permutedOffsets(shape: Shape, perm: readonly number[]): Int32Array {
  const strides = contiguousStrides(shape);
  return stridedOffsets(
    perm.map((d) => shape[d] as number),
    perm.map((d) => strides[d] as number),
    0,
  );
}
