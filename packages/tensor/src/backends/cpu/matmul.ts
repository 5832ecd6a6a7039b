/**
 * `matmul` on the native GEMM: out[...batch, M, N] = a[...batch, M, K] · b[...batch, K, N].
 * Inputs arrive broadcast (stride 0 on broadcast batch dims) and possibly transposed or sliced;
 * the GEMM's packing absorbs every stride, so nothing is copied. Batch dims that can be walked
 * with one stride in all three operands are merged into the GEMM's own batch loop; the rest are
 * walked here. float16/bfloat16 accumulate in float32 and are rounded once into the output.
 * Integer and bool matmuls go to the `js` reference kernel.
 */
import type { StridedView } from "../../access.ts";
import type { NativeAddon, NativeGemmDType } from "../../native/index.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

interface BatchDim {
  size: number;
  a: number;
  b: number;
  c: number;
}

/** Batch dims of size > 1 with adjacent dims merged where every operand allows it. */
function batchDims(a: StridedView, b: StridedView, cStrides: readonly number[], shape: readonly number[]): BatchDim[] {
  const dims: BatchDim[] = [];
  for (let d = 0; d < shape.length - 2; d++) {
    const size = shape[d] as number;
    if (size === 1) continue;
    const next = { size, a: a.strides[d] as number, b: b.strides[d] as number, c: cStrides[d] as number };
    const last = dims[dims.length - 1];
    if (last && last.a === next.a * size && last.b === next.b * size && last.c === next.c * size) {
      last.size *= size;
      last.a = next.a;
      last.b = next.b;
      last.c = next.c;
    } else {
      dims.push(next);
    }
  }
  return dims;
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    s[d] = acc;
    acc *= shape[d] as number;
  }
  return s;
}

/** The `matmul` kernel record for the `cpu` backend. */
export function matmulKernels(addon: NativeAddon, fallback: KernelFn): KernelRecord[] {
  const matmul = (args: KernelArgs): void => {
    const {
      inputs: [a, b],
      outputs: [out],
    } = args;
    if (!a || !b || !out) return;
    const dtype = out.dtype;
    if (dtype !== "float32" && dtype !== "float16" && dtype !== "bfloat16") {
      fallback(args);
      return;
    }
    const nd = out.shape.length;
    const M = out.shape[nd - 2] as number;
    const N = out.shape[nd - 1] as number;
    const K = a.shape[nd - 1] as number;
    const total = out.data.length;
    if (total === 0) return;
    const cStrides = rowMajorStrides(out.shape);
    const c = dtype === "float32" ? (out.data as Float32Array) : new Float32Array(total);
    const dims = batchDims(a, b, cStrides, out.shape);
    const inner = dims.pop() ?? { size: 1, a: 0, b: 0, c: 0 };
    const outerCount = dims.reduce((n, d) => n * d.size, 1);
    const idx = new Array<number>(dims.length).fill(0);
    let ao = a.offset;
    let bo = b.offset;
    let co = 0;
    const ar = a.strides[nd - 2] as number;
    const ac = a.strides[nd - 1] as number;
    const br = b.strides[nd - 2] as number;
    const bc = b.strides[nd - 1] as number;
    for (let t = 0; t < outerCount; t++) {
      addon.gemm(
        dtype as NativeGemmDType,
        M,
        N,
        K,
        inner.size,
        a.data,
        ao,
        [inner.a, ar, ac],
        b.data,
        bo,
        [inner.b, br, bc],
        c,
        co,
        [inner.c, N, 1],
        1,
        0,
      );
      for (let d = dims.length - 1; d >= 0; d--) {
        const dim = dims[d] as BatchDim;
        idx[d] = (idx[d] as number) + 1;
        ao += dim.a;
        bo += dim.b;
        co += dim.c;
        if ((idx[d] as number) < dim.size) break;
        ao -= dim.a * dim.size;
        bo -= dim.b * dim.size;
        co -= dim.c * dim.size;
        idx[d] = 0;
      }
    }
    if (dtype !== "float32") addon.convert(c, "float32", out.data, dtype, total); // rounds once
  };
  return [{ op: "matmul", fn: matmul }];
}
