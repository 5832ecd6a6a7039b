/**
 * Batched matmul of the `js` reference backend: out[b, i, j] = sum_k a[b, i, k] * b[b, k, j],
 * accumulated in float64. Inputs arrive broadcast to [...batch, M, K] and [...batch, K, N].
 */
import { readNumbers, writeNumbers } from "../../access.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

function matmul({ inputs: [a, b], outputs: [out] }: KernelArgs): void {
  if (!a || !b || !out) return;
  const nd = out.shape.length;
  const m = out.shape[nd - 2] as number;
  const n = out.shape[nd - 1] as number;
  const k = a.shape[nd - 1] as number;
  const batches = m * n === 0 ? 0 : out.data.length / (m * n);
  const va = readNumbers(a);
  const vb = readNumbers(b);
  const res = new Float64Array(batches * m * n);
  for (let bt = 0; bt < batches; bt++) {
    const ao = bt * m * k;
    const bo = bt * k * n;
    const oo = bt * m * n;
    for (let i = 0; i < m; i++) {
      const row = oo + i * n;
      for (let p = 0; p < k; p++) {
        const aip = va[ao + i * k + p] as number;
        if (aip === 0) continue;
        const brow = bo + p * n;
        for (let j = 0; j < n; j++) res[row + j] = (res[row + j] as number) + aip * (vb[brow + j] as number);
      }
    }
  }
  writeNumbers(out.data, out.dtype, res);
}

export const matmulKernels: KernelRecord[] = [{ op: "matmul", fn: matmul }];
