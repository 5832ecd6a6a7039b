/**
 * Batched matmul of the `js` reference backend: out[b, i, j] = Σ_k a[b, i, k] · b[b, k, j],
 * accumulated in float64 (plus bias[j] when a bias `[N]` is given: each sum starts from it), then
 * plus addend[b, i, j] when an addend of the output's shape is given (rounded as a separate add),
 * then the `activation` when one is named (as the activation op on that result).
 * Inputs arrive broadcast to [...batch, M, K] and [...batch, K, N]; a matrix shared by several
 * batches (stride 0) is read once. With `roundA` (float32 a, 16-bit b) a's values are first
 * rounded to b's dtype.
 */
import { readNumbers, type StridedView, writeNumbers } from "../../access.ts";
import { bf16BitsToFloat, f16BitsToFloat, floatToBf16Bits, floatToF16Bits } from "../../dtype.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { activationFn } from "./fused.ts";

/** Reads the trailing matrix of `v` at each batch index, reusing reads of the same matrix. */
function matrixReader(v: StridedView, round?: (x: number) => number) {
  const nd = v.shape.length;
  const rows = v.shape[nd - 2] as number;
  const cols = v.shape[nd - 1] as number;
  const batchShape = v.shape.slice(0, nd - 2);
  let lastOffset = -1;
  let last: ReturnType<typeof readNumbers> | null = null;
  return (batch: number) => {
    let offset = v.offset;
    let rest = batch;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      const size = batchShape[d] as number;
      offset += (rest % size) * (v.strides[d] as number);
      rest = Math.floor(rest / size);
    }
    if (last === null || offset !== lastOffset) {
      last = readNumbers({ ...v, shape: [rows, cols], strides: v.strides.slice(nd - 2), offset });
      if (round) last = last.map(round);
      lastOffset = offset;
    }
    return last;
  };
}

function matmul({ inputs: [a, b, ...extra], outputs: [out], attrs }: KernelArgs): void {
  if (!a || !b || !out) return;
  const { bias: hasBias, addend: hasAddend } = attrs as { bias?: boolean; addend?: boolean };
  const bias = hasBias ? extra[0] : undefined;
  const addend = hasAddend ? extra[extra.length - 1] : undefined;
  const round = !(attrs as { roundA?: boolean }).roundA
    ? undefined
    : b.dtype === "float16"
      ? (x: number) => f16BitsToFloat(floatToF16Bits(x))
      : (x: number) => bf16BitsToFloat(floatToBf16Bits(x));
  const nd = out.shape.length;
  const m = out.shape[nd - 2] as number;
  const n = out.shape[nd - 1] as number;
  const k = a.shape[nd - 1] as number;
  const batches = m * n === 0 ? 0 : out.data.length / (m * n);
  const readA = matrixReader(a, round);
  const readB = matrixReader(b);
  const res = new Float64Array(batches * m * n);
  if (bias) {
    const row = readNumbers(bias);
    for (let r = 0; r < batches * m; r++) res.set(row, r * n);
  }
  for (let bt = 0; bt < batches; bt++) {
    const va = readA(bt);
    const vb = readB(bt);
    const oo = bt * m * n;
    for (let i = 0; i < m; i++) {
      const row = oo + i * n;
      for (let p = 0; p < k; p++) {
        const aip = va[i * k + p] as number;
        const brow = p * n;
        for (let j = 0; j < n; j++) res[row + j] = (res[row + j] as number) + aip * (vb[brow + j] as number);
      }
    }
  }
  writeNumbers(out.data, out.dtype, res);
  if (addend) {
    // rounded as a separate add: the product first, then the sum
    const sum = readNumbers(out);
    const add = readNumbers(addend);
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) + (add[i] as number);
    writeNumbers(out.data, out.dtype, sum);
  }
  const act = (attrs as { activation?: string }).activation;
  // as the activation op after it: of the rounded result
  if (act) writeNumbers(out.data, out.dtype, readNumbers(out).map(activationFn(act)));
}

export const matmulKernels: KernelRecord[] = [{ op: "matmul", fn: matmul }];
