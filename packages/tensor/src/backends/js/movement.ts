/** Copying movement and indexing kernels of the `js` backend: pad, cat, gather, scatterAdd. */
import { readNumbers, type StridedView, stridedOffsets, writeNumbers } from "../../access.ts";
import { HearthTensorError } from "../../errors.ts";
import { contiguousStrides } from "../../shape.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { rawCopy } from "./util.ts";

/** Index values of an int32/int64 view in row-major order. */
function indexValues(v: StridedView): Float64Array {
  return readNumbers(v);
}

/**
 * Storage offset in `x` for every position of `index` (row-major), with the coordinate along
 * `dim` replaced by the index value. Throws for out-of-range indices.
 */
function indexedOffsets(op: string, x: StridedView, index: StridedView, dim: number): Int32Array {
  const idx = indexValues(index);
  const nd = index.shape.length;
  const out = new Int32Array(idx.length);
  const coord = new Array<number>(nd).fill(0);
  const size = x.shape[dim] as number;
  for (let i = 0; i < idx.length; i++) {
    let j = idx[i] as number;
    if (j < -size || j >= size || !Number.isInteger(j)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_INDEX",
        `${op}: index ${j} is out of range for dim ${dim} of size ${size}`,
      );
    }
    if (j < 0) j += size;
    let off = x.offset;
    for (let d = 0; d < nd; d++) off += (d === dim ? j : (coord[d] as number)) * (x.strides[d] as number);
    out[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      coord[d] = (coord[d] as number) + 1;
      if ((coord[d] as number) < (index.shape[d] as number)) break;
      coord[d] = 0;
    }
  }
  return out;
}

export const movementKernels: KernelRecord[] = [
  {
    op: "pad",
    fn: ({ inputs: [x], outputs: [out], attrs }: KernelArgs<{ pads: [number, number][]; value: number }>) => {
      if (!x || !out) return;
      if (attrs.value !== 0) writeNumbers(out.data, out.dtype, new Float64Array(out.data.length).fill(attrs.value));
      const strides = contiguousStrides(out.shape);
      const offset = attrs.pads.reduce((acc, [before], d) => acc + before * (strides[d] as number), 0);
      rawCopy(x, out.data, stridedOffsets(x.shape, strides, offset));
    },
  },
  {
    op: "cat",
    fn: ({ inputs, outputs: [out], attrs }: KernelArgs<{ dim: number }>) => {
      if (!out) return;
      const strides = contiguousStrides(out.shape);
      let start = 0;
      for (const x of inputs) {
        rawCopy(x, out.data, stridedOffsets(x.shape, strides, start * (strides[attrs.dim] as number)));
        start += x.shape[attrs.dim] as number;
      }
    },
  },
  {
    op: "gather",
    fn: ({ inputs: [x, index], outputs: [out], attrs }: KernelArgs<{ dim: number }>) => {
      if (!x || !index || !out) return;
      const from = indexedOffsets("gather", x, index, attrs.dim);
      const s = x.data as Float32Array;
      const d = out.data as Float32Array;
      for (let i = 0; i < from.length; i++) d[i] = s[from[i] as number] as number;
    },
  },
  {
    op: "scatterAdd",
    fn: ({ inputs: [x, index, src], outputs: [out], attrs }: KernelArgs<{ dim: number }>) => {
      if (!x || !index || !src || !out) return;
      const acc = readNumbers(x);
      const contiguousOut = { ...out, strides: contiguousStrides(out.shape), offset: 0 };
      const to = indexedOffsets("scatterAdd", contiguousOut, index, attrs.dim);
      const vs = readNumbers({ ...src, shape: index.shape });
      for (let i = 0; i < to.length; i++) acc[to[i] as number] = (acc[to[i] as number] as number) + (vs[i] as number);
      writeNumbers(out.data, out.dtype, acc);
    },
  },
];
