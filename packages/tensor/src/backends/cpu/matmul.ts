/**
 * `matmul` on the native GEMM: out[...batch, M, N] = a[...batch, M, K] · b[...batch, K, N].
 * Inputs arrive broadcast (stride 0 on broadcast batch dims) and possibly transposed or sliced;
 * the GEMM's packing absorbs every stride, so nothing is copied. Batch dims that can be walked
 * with one stride in all three operands are merged into the GEMM's own batch loop; the rest are
 * walked here. float16/bfloat16 accumulate in float32 and are rounded once into the output.
 * With a bias (`[N]`), the GEMM's threads start every output row they compute as the bias and
 * add the product to it: the sum is rounded as a separate add would round it, in the pass that
 * writes the product. An `addend` of the output's shape (a residual) is added to the finished
 * product, rounded as the separate add it replaces: by the GEMM's threads, tile by tile while
 * each C tile is in cache, when the addend is row-major; else by one add pass after the GEMM.
 * With `roundA` (a float32 `a`, a 16-bit `b`), the native GEMM takes `a` as float32 and rounds
 * it to b's dtype itself (into a buffer of its own, kept between calls): what a cast op would
 * make, without the op or a per-call temporary (a decoding step has one such product per
 * weight). An `activation` (float32 output) is applied last, by the GEMM's threads to each
 * finished C tile with the activation op's own native kernel (the same bits as that op after the
 * product), or after the add pass of a non-row-major addend. Integer and bool matmuls go to the
 * `js` reference kernel. A B that is one matrix for the whole call (a layer's weight) may be
 * multiplied from its pre-packed form, or by a few rows from its transposed copy (both in
 * `packed-weights.ts`). `HEARTH_GEMM_PAIR` times every
 * product under several GEMM families on the same call (`gemm-pair.ts`).
 */
import { readNumbers, type StridedView } from "../../access.ts";
import type { NativeAddon, NativeGemmDType } from "../../native/index.ts";
import type { ProductActivation } from "../../ops/primitives.ts";
import { isContiguous } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";
import { Scratch } from "./convert.ts";
import { GEMM_PAIR, pairedGemm } from "./gemm-pair.ts";
import { packedWeight, transposedWeight } from "./packed-weights.ts";

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

/** The bias `[N]` as a contiguous float32 row (a view of it where it already is one). */
function biasRow(bias: StridedView, N: number): Float32Array {
  return bias.dtype === "float32" && bias.strides[0] === 1
    ? (bias.data as Float32Array).subarray(bias.offset, bias.offset + N)
    : Float32Array.from(readNumbers(bias));
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

/** One matmul call's GEMMs: the outer batch dims walked here, the rest in each GEMM call. */
interface Products {
  addon: NativeAddon;
  dtype: NativeGemmDType;
  rows: number;
  N: number;
  K: number;
  inner: BatchDim;
  dims: BatchDim[];
  outerCount: number;
  a: StridedView;
  b: StridedView;
  c: Float32Array;
  ar: number;
  ac: number;
  br: number;
  bc: number;
  bPacked: ArrayBuffer | undefined;
  row: Float32Array | undefined;
  roundA: boolean;
  /** A row-major addend of C's layout, added by the GEMM to each C tile (undefined: none). */
  addend: Float32Array | undefined;
  addendOffset: number;
  /** Applied by the GEMM to each finished C tile (undefined: none). */
  activation: ProductActivation | undefined;
}

// A module-level function, not a closure made per call: tsx (esbuild's keepNames) names every
// function object it creates, a defineProperty per closure, and a decoding step has ~50 products.
function runProducts(p: Products): void {
  const { addon, dims, inner, a, b, c } = p;
  const idx = new Array<number>(dims.length).fill(0);
  let ao = a.offset;
  let bo = b.offset;
  let co = 0;
  for (let t = 0; t < p.outerCount; t++) {
    addon.gemm(
      p.dtype,
      p.rows,
      p.N,
      p.K,
      inner.size,
      a.data,
      ao,
      [inner.a, p.ar, p.ac],
      b.data,
      bo,
      [inner.b, p.br, p.bc],
      c,
      co,
      [inner.c, p.N, 1],
      1,
      0,
      p.bPacked,
      p.row,
      p.roundA,
      p.addend,
      p.addend ? p.addendOffset + co : 0,
      [inner.c, p.N, 1],
      p.activation,
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
}

/** The `matmul` kernel record for the `cpu` backend. */
export function matmulKernels(addon: NativeAddon, fallback: KernelFn): KernelRecord[] {
  const matmul = (args: KernelArgs): void => {
    const {
      inputs: [a, b, ...extra],
      outputs: [out],
    } = args;
    if (!a || !b || !out) return;
    const attrs = args.attrs as { roundA?: boolean; bias?: boolean; addend?: boolean; activation?: ProductActivation };
    const bias = attrs.bias ? extra[0] : undefined;
    const addend = attrs.addend ? extra[extra.length - 1] : undefined;
    // of both inputs (a's once rounded: with roundA a is float32, which the GEMM rounds to b's
    // dtype); the output may be float32 for 16-bit inputs
    const dtype = b.dtype;
    if (dtype !== "float32" && dtype !== "float16" && dtype !== "bfloat16") {
      fallback(args);
      return;
    }
    const total = out.data.length;
    if (total === 0) return;
    const nd = out.shape.length;
    const M = out.shape[nd - 2] as number;
    const N = out.shape[nd - 1] as number;
    const K = a.shape[nd - 1] as number;
    const cStrides = rowMajorStrides(out.shape);
    // 16-bit outputs: float32 product in a temporary (an addon buffer handed back at the end),
    // rounded once.
    const temps = out.dtype === "float32" ? null : new Scratch(addon);
    const c = temps ? temps.f32(total) : (out.data as Float32Array);
    const row = bias ? biasRow(bias, N) : undefined;
    const dims = batchDims(a, b, cStrides, out.shape);
    let inner = dims.pop() ?? { size: 1, a: 0, b: 0, c: 0 };
    let ar = a.strides[nd - 2] as number;
    let rows = M;
    if (inner.size > 1 && inner.b === 0 && inner.c === M * N && (inner.a === M * ar || M === 1)) {
      // x[..., M, K] · W[K, N] with W shared by every batch: one [batch·M, K] · [K, N] product
      // (W packed once, one thread split over all rows) instead of a batch of small ones. Rows
      // of one each may lie anywhere along one stride (the last position of every sequence, a
      // batched prompt's logits): that stride is then the row stride, and the weight (a 77 MB
      // bf16 GPT-2 head) is streamed once for all of them, not once per sequence.
      if (M === 1) ar = inner.a;
      rows = M * inner.size;
      inner = { size: 1, a: 0, b: 0, c: 0 };
    }
    let outerCount = 1;
    for (const d of dims) outerCount *= d.size;
    const ac = a.strides[nd - 1] as number;
    let br = b.strides[nd - 2] as number;
    let bc = b.strides[nd - 1] as number;
    const bPacked =
      outerCount === 1 && (inner.size === 1 || inner.b === 0)
        ? packedWeight(addon, b, dtype as NativeGemmDType, rows, K, N, br, bc)
        : undefined;
    // a few rows against a weight whose rows run along N: from its transposed copy, if one is kept
    const bT =
      !bPacked && outerCount === 1 && inner.size === 1
        ? transposedWeight(addon, b, dtype as NativeGemmDType, rows, K, N, br, bc)
        : undefined;
    let bView = b;
    if (bT) {
      const data = dtype === "float32" ? new Float32Array(bT, 0, K * N) : new Uint16Array(bT, 0, K * N);
      bView = { dtype: b.dtype, shape: [K, N], strides: [1, K], offset: 0, data };
      br = 1;
      bc = K;
    }
    // A row-major addend lies like C: the GEMM adds it tile by tile (one pass over C fewer).
    const fusedAddend =
      addend && isContiguous(addend.shape, addend.strides) ? (addend.data as Float32Array) : undefined;
    const job: Products = {
      addon,
      dtype: dtype as NativeGemmDType,
      rows,
      N,
      K,
      inner,
      dims,
      outerCount,
      a,
      b: bView,
      c,
      ar,
      ac,
      br,
      bc,
      bPacked,
      row,
      roundA: attrs.roundA === true,
      addend: fusedAddend,
      addendOffset: fusedAddend ? (addend as StridedView).offset : 0,
      // after the add pass when the addend is not added by the GEMM
      activation: addend && !fusedAddend ? undefined : attrs.activation,
    };
    const batch = outerCount * inner.size;
    if (GEMM_PAIR)
      pairedGemm(
        addon,
        `${batch > 1 ? `${batch}×` : ""}${rows}x${N}x${K}${ar === 1 ? " A/T" : ""}${br === 1 ? " B/T" : ""}`,
        () => runProducts(job),
      );
    else runProducts(job);
    // float32 only (the primitive's rule): c is the output's own storage
    if (addend && !fusedAddend) {
      addon.binary("add", c, 0, cStrides, addend.data as Float32Array, addend.offset, addend.strides, c, out.shape);
      if (attrs.activation) addon.activation(attrs.activation, c, c, total);
    }
    if (c !== out.data) addon.convert(c, "float32", out.data, out.dtype as NativeGemmDType, total);
    temps?.release();
  };
  return [{ op: "matmul", fn: matmul }];
}
