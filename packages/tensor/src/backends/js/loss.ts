/**
 * Loss kernels of the `js` reference backend: cross-entropy per row, in float64, written the
 * obvious way (max-shifted log-sum-exp, then the smoothed negative log-likelihood).
 */
import { readNumbers, writeNumbers } from "../../access.ts";
import { HearthTensorError } from "../../errors.ts";
import type { CrossEntropyAttrs } from "../../ops/primitives-loss.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

function targets(view: KernelArgs["inputs"][number], classes: number, ignore: number, op: string): Float64Array {
  const t = readNumbers(view);
  t.forEach((v, n) => {
    if (v !== ignore && (v < 0 || v >= classes)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_INDEX",
        `${op}: target ${v} of row ${n} is outside [0, ${classes}) and is not ignoreIndex ${ignore}`,
      );
    }
  });
  return t;
}

function crossEntropy({ inputs: [x, t], outputs: [loss, lse], attrs }: KernelArgs<CrossEntropyAttrs>): void {
  if (!x || !t || !loss || !lse) return;
  const [n, v] = x.shape as [number, number];
  const tv = targets(t, v, attrs.ignoreIndex, "crossEntropy");
  const xs = readNumbers(x);
  const eps = attrs.labelSmoothing;
  const outLoss = new Float64Array(n);
  const outLse = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < v; i++) max = Math.max(max, xs[r * v + i] as number);
    let sum = 0;
    let total = 0;
    for (let i = 0; i < v; i++) {
      sum += Math.exp((xs[r * v + i] as number) - max);
      total += xs[r * v + i] as number;
    }
    const l = max + Math.log(sum);
    outLse[r] = l;
    const target = tv[r] as number;
    if (target === attrs.ignoreIndex) continue;
    outLoss[r] = l - (1 - eps) * (xs[r * v + target] as number) - (eps > 0 ? (eps * total) / v : 0);
  }
  writeNumbers(loss.data, loss.dtype, outLoss);
  writeNumbers(lse.data, lse.dtype, outLse);
}

function crossEntropyBackward({ inputs: [x, t, lse, g], outputs: [dx], attrs }: KernelArgs<CrossEntropyAttrs>): void {
  if (!x || !t || !lse || !g || !dx) return;
  const [n, v] = x.shape as [number, number];
  const tv = targets(t, v, attrs.ignoreIndex, "crossEntropyBackward");
  const xs = readNumbers(x);
  const ls = readNumbers(lse);
  const gs = readNumbers(g);
  const eps = attrs.labelSmoothing;
  const out = new Float64Array(n * v);
  for (let r = 0; r < n; r++) {
    const target = tv[r] as number;
    if (target === attrs.ignoreIndex) continue;
    const gr = gs[r] as number;
    for (let i = 0; i < v; i++) {
      const soft = Math.exp((xs[r * v + i] as number) - (ls[r] as number));
      out[r * v + i] = gr * (soft - eps / v - (i === target ? 1 - eps : 0));
    }
  }
  writeNumbers(dx.data, dx.dtype, out);
}

export const lossKernels: KernelRecord[] = [
  { op: "crossEntropy", fn: crossEntropy },
  { op: "crossEntropyBackward", fn: crossEntropyBackward },
];
