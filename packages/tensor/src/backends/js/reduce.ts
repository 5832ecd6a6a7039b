/** Reductions, scans and sorting of the `js` reference backend (float64 accumulation). */
import { readNumbers, writeNumbers } from "../../access.ts";
import type { DimAttrs, ReduceAttrs } from "../../ops/primitives.ts";
import { numel } from "../../shape.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { moveLast, permutedOffsets } from "./util.ts";

/** Reads `x` with `dims` moved last, returning values grouped in rows of the reduced size. */
function rows(x: KernelArgs["inputs"][number], dims: readonly number[]) {
  const { view, perm } = moveLast(x, dims);
  const values = readNumbers(view);
  const rowLen = numel(dims.map((d) => x.shape[d] as number));
  return {
    values,
    rowLen,
    nRows: rowLen === 0 ? numel(view.shape.slice(0, view.shape.length - dims.length)) : values.length / rowLen,
    perm,
  };
}

function reduceKernel(init: number, step: (acc: number, v: number) => number) {
  return ({ inputs: [x], outputs: [out], attrs }: KernelArgs<ReduceAttrs>) => {
    if (!x || !out) return;
    const { values, rowLen, nRows } = rows(x, attrs.dims);
    const res = new Float64Array(nRows);
    for (let r = 0; r < nRows; r++) {
      let acc = init;
      for (let i = r * rowLen; i < (r + 1) * rowLen; i++) acc = step(acc, values[i] as number);
      res[r] = acc;
    }
    writeNumbers(out.data, out.dtype, res);
  };
}

function argKernel(better: (a: number, b: number) => boolean) {
  return ({ inputs: [x], outputs: [out], attrs }: KernelArgs<DimAttrs>) => {
    if (!x || !out) return;
    const { values, rowLen, nRows } = rows(x, x.shape.length ? [attrs.dim] : []);
    const res = new Float64Array(nRows);
    for (let r = 0; r < nRows; r++) {
      let best = r * rowLen;
      for (let i = best + 1; i < (r + 1) * rowLen; i++) {
        const v = values[i] as number;
        if (Number.isNaN(values[best] as number)) break;
        if (Number.isNaN(v) || better(v, values[best] as number)) best = i;
      }
      res[r] = best - r * rowLen;
    }
    writeNumbers(out.data, out.dtype, res);
  };
}

export const reduceKernels: KernelRecord[] = [
  { op: "sum", fn: reduceKernel(0, (a, v) => a + v) },
  { op: "amax", fn: reduceKernel(Number.NEGATIVE_INFINITY, Math.max) },
  { op: "amin", fn: reduceKernel(Number.POSITIVE_INFINITY, Math.min) },
  { op: "argmax", fn: argKernel((a, b) => a > b) },
  { op: "argmin", fn: argKernel((a, b) => a < b) },
  {
    op: "cumsum",
    fn: ({ inputs: [x], outputs: [out], attrs }: KernelArgs<{ dim: number; reverse: boolean }>) => {
      if (!x || !out) return;
      const { values, rowLen, nRows, perm } = rows(x, [attrs.dim]);
      for (let r = 0; r < nRows; r++) {
        let acc = 0;
        for (let j = 0; j < rowLen; j++) {
          const i = r * rowLen + (attrs.reverse ? rowLen - 1 - j : j);
          acc += values[i] as number;
          values[i] = acc;
        }
      }
      const offs = permutedOffsets(out.shape, perm);
      const res = new Float64Array(values.length);
      for (let i = 0; i < offs.length; i++) res[offs[i] as number] = values[i] as number;
      writeNumbers(out.data, out.dtype, res);
    },
  },
  {
    op: "sort",
    fn: ({ inputs: [x], outputs: [vals, idx], attrs }: KernelArgs<{ dim: number; descending: boolean }>) => {
      if (!x || !vals || !idx) return;
      const { values, rowLen, nRows, perm } = rows(x, [attrs.dim]);
      const offs = permutedOffsets(vals.shape, perm);
      const sortedV = new Float64Array(values.length);
      const sortedI = new Float64Array(values.length);
      const order = Array.from({ length: rowLen }, (_, i) => i);
      // NaN sorts as the largest value, like PyTorch; ties keep input order (stable)
      const key = (v: number) => (Number.isNaN(v) ? Number.POSITIVE_INFINITY : v);
      for (let r = 0; r < nRows; r++) {
        const base = r * rowLen;
        for (let i = 0; i < rowLen; i++) order[i] = i;
        order.sort((a, b) => {
          const va = values[base + a] as number;
          const vb = values[base + b] as number;
          let cmp = key(va) - key(vb);
          if (cmp === 0 || Number.isNaN(cmp)) cmp = (Number.isNaN(va) ? 1 : 0) - (Number.isNaN(vb) ? 1 : 0);
          if (attrs.descending) cmp = -cmp;
          return cmp !== 0 ? cmp : a - b;
        });
        for (let i = 0; i < rowLen; i++) {
          const o = offs[base + i] as number;
          sortedV[o] = values[base + (order[i] as number)] as number;
          sortedI[o] = order[i] as number;
        }
      }
      writeNumbers(vals.data, vals.dtype, sortedV);
      writeNumbers(idx.data, idx.dtype, sortedI);
    },
  },
];
