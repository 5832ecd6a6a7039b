/**
 * Reference kernels of the fused primitives (softmax, logSoftmax, layerNorm, rmsNorm, gelu,
 * silu and their backwards): the textbook formulas per row in float64, rounded once into the
 * output dtype. Rows run along `dim` (softmax), the trailing normalised dims (layerNorm) or the
 * last dim (rmsNorm); inputs may be strided.
 */
import { readNumbers, type StridedView, writeNumbers } from "../../access.ts";
import type {
  GeluAttrs,
  LayerNormAttrs,
  LayerNormBackwardAttrs,
  RmsNormAttrs,
  RmsNormBackwardAttrs,
  SoftmaxAttrs,
} from "../../ops/fused-primitives.ts";
import { numel } from "../../shape.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";
import { erf } from "./elementwise.ts";
import { moveLast, permutedOffsets } from "./util.ts";

/** Values of each view with `dim` moved last (rows of `cols`), and how to write rows back. */
function alongDim(views: readonly StridedView[], dim: number) {
  const shape = (views[0] as StridedView).shape;
  const cols = shape[dim] as number;
  const n = numel(shape);
  const values = views.map((v) => readNumbers(moveLast(v, [dim]).view));
  const { perm } = moveLast(views[0] as StridedView, [dim]);
  const at = permutedOffsets(shape, perm);
  const write = (out: StridedView, rowsValues: Float64Array) => {
    const ordered = new Float64Array(n);
    for (let i = 0; i < n; i++) ordered[at[i] as number] = rowsValues[i] as number;
    writeNumbers(out.data, out.dtype, ordered);
  };
  return { rows: cols === 0 ? 0 : n / cols, cols, values, write };
}

function rowMax(x: Float64Array, o: number, cols: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < cols; i++) m = Math.max(m, x[o + i] as number);
  return m;
}

function softmaxKernel({ inputs, outputs, attrs }: KernelArgs<SoftmaxAttrs>): void {
  const { rows, cols, values, write } = alongDim(inputs, attrs.dim);
  const x = values[0] as Float64Array;
  const y = new Float64Array(x.length);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const m = rowMax(x, o, cols);
    let s = 0;
    for (let i = 0; i < cols; i++) s += y[o + i] = Math.exp((x[o + i] as number) - m);
    for (let i = 0; i < cols; i++) y[o + i] = (y[o + i] as number) / s;
  }
  write(outputs[0] as StridedView, y);
}

function logSoftmaxKernel({ inputs, outputs, attrs }: KernelArgs<SoftmaxAttrs>): void {
  const { rows, cols, values, write } = alongDim(inputs, attrs.dim);
  const x = values[0] as Float64Array;
  const y = new Float64Array(x.length);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let m = rowMax(x, o, cols);
    if (!Number.isFinite(m) && !Number.isNaN(m)) m = 0; // an infinite max shifts by 0, as logsumexp
    let s = 0;
    for (let i = 0; i < cols; i++) s += Math.exp((x[o + i] as number) - m);
    const lse = m + Math.log(s);
    for (let i = 0; i < cols; i++) y[o + i] = (x[o + i] as number) - lse;
  }
  write(outputs[0] as StridedView, y);
}

function softmaxBackwardKernel({ inputs, outputs, attrs }: KernelArgs<SoftmaxAttrs>): void {
  const { rows, cols, values, write } = alongDim(inputs, attrs.dim);
  const [y, dy] = values as [Float64Array, Float64Array];
  const dx = new Float64Array(y.length);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let dot = 0;
    for (let i = 0; i < cols; i++) dot += (dy[o + i] as number) * (y[o + i] as number);
    for (let i = 0; i < cols; i++) dx[o + i] = (y[o + i] as number) * ((dy[o + i] as number) - dot);
  }
  write(outputs[0] as StridedView, dx);
}

function logSoftmaxBackwardKernel({ inputs, outputs, attrs }: KernelArgs<SoftmaxAttrs>): void {
  const { rows, cols, values, write } = alongDim(inputs, attrs.dim);
  const [y, dy] = values as [Float64Array, Float64Array];
  const dx = new Float64Array(y.length);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += dy[o + i] as number;
    for (let i = 0; i < cols; i++) dx[o + i] = (dy[o + i] as number) - Math.exp(y[o + i] as number) * s;
  }
  write(outputs[0] as StridedView, dx);
}

/** Rows of `cols` over the trailing `k` dims of `x`. */
function rowsOf(x: StridedView, k: number): [number, number] {
  const cols = numel(x.shape.slice(x.shape.length - k));
  return [cols === 0 ? 0 : numel(x.shape) / cols, cols];
}

function layerNormKernel({ inputs, outputs, attrs }: KernelArgs<LayerNormAttrs>): void {
  const x = readNumbers(inputs[0] as StridedView);
  const w = attrs.weight ? readNumbers(inputs[1] as StridedView) : null;
  const b = attrs.bias ? readNumbers(inputs[inputs.length - 1] as StridedView) : null;
  const [rows, cols] = rowsOf(inputs[0] as StridedView, attrs.normalizedDims);
  const y = new Float64Array(x.length);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let s = 0;
    for (let i = 0; i < cols; i++) s += x[o + i] as number;
    const mu = s / cols;
    let v = 0;
    for (let i = 0; i < cols; i++) v += ((x[o + i] as number) - mu) ** 2;
    const rs = 1 / Math.sqrt(v / cols + attrs.eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let i = 0; i < cols; i++) {
      y[o + i] = ((x[o + i] as number) - mu) * rs * (w ? (w[i] as number) : 1) + (b ? (b[i] as number) : 0);
    }
  }
  const [oy, om, or] = outputs as [StridedView, StridedView?, StridedView?];
  writeNumbers(oy.data, oy.dtype, y);
  // (mean and rstd are absent with `stats: false`)
  if (om) writeNumbers(om.data, om.dtype, mean);
  if (or) writeNumbers(or.data, or.dtype, rstd);
}

function layerNormBackwardKernel({ inputs, outputs, attrs }: KernelArgs<LayerNormBackwardAttrs>): void {
  const x = readNumbers(inputs[0] as StridedView);
  const k = attrs.weight ? 2 : 1;
  const w = attrs.weight ? readNumbers(inputs[1] as StridedView) : null;
  const [mean, rstd, dy] = inputs.slice(k).map(readNumbers) as [Float64Array, Float64Array, Float64Array];
  const [rows, cols] = rowsOf(inputs[0] as StridedView, attrs.normalizedDims);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(cols);
  const db = new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const mu = mean[r] as number;
    const rs = rstd[r] as number;
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < cols; i++) {
      const g = (dy[o + i] as number) * (w ? (w[i] as number) : 1);
      sa += g;
      sb += g * ((x[o + i] as number) - mu) * rs;
    }
    for (let i = 0; i < cols; i++) {
      const xh = ((x[o + i] as number) - mu) * rs;
      const d = dy[o + i] as number;
      dx[o + i] = rs * (d * (w ? (w[i] as number) : 1) - sa / cols - (xh * sb) / cols);
      dw[i] = (dw[i] as number) + d * xh;
      db[i] = (db[i] as number) + d;
    }
  }
  const outs = [dx, ...(attrs.needWeight ? [dw] : []), ...(attrs.needBias ? [db] : [])];
  outs.forEach((v, i) => {
    const o = outputs[i] as StridedView;
    writeNumbers(o.data, o.dtype, v);
  });
}

function rmsNormKernel({ inputs, outputs, attrs }: KernelArgs<RmsNormAttrs>): void {
  const x = readNumbers(inputs[0] as StridedView);
  const w = attrs.weight ? readNumbers(inputs[1] as StridedView) : null;
  const [rows, cols] = rowsOf(inputs[0] as StridedView, 1);
  const y = new Float64Array(x.length);
  const rstd = new Float64Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    let ss = 0;
    for (let i = 0; i < cols; i++) ss += (x[o + i] as number) ** 2;
    const rs = 1 / Math.sqrt(ss / cols + attrs.eps);
    rstd[r] = rs;
    for (let i = 0; i < cols; i++) y[o + i] = (x[o + i] as number) * rs * (w ? (w[i] as number) : 1);
  }
  const [oy, or] = outputs as [StridedView, StridedView?];
  writeNumbers(oy.data, oy.dtype, y);
  if (or) writeNumbers(or.data, or.dtype, rstd); // (absent with `stats: false`)
}

function rmsNormBackwardKernel({ inputs, outputs, attrs }: KernelArgs<RmsNormBackwardAttrs>): void {
  const x = readNumbers(inputs[0] as StridedView);
  const w = attrs.weight ? readNumbers(inputs[1] as StridedView) : null;
  const [rstd, dy] = inputs.slice(attrs.weight ? 2 : 1).map(readNumbers) as [Float64Array, Float64Array];
  const [rows, cols] = rowsOf(inputs[0] as StridedView, 1);
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(cols);
  for (let r = 0, o = 0; r < rows; r++, o += cols) {
    const rs = rstd[r] as number;
    let sb = 0;
    for (let i = 0; i < cols; i++) sb += (dy[o + i] as number) * (w ? (w[i] as number) : 1) * (x[o + i] as number) * rs;
    for (let i = 0; i < cols; i++) {
      const xh = (x[o + i] as number) * rs;
      const d = dy[o + i] as number;
      dx[o + i] = rs * (d * (w ? (w[i] as number) : 1) - (xh * sb) / cols);
      dw[i] = (dw[i] as number) + d * xh;
    }
  }
  const [odx, odw] = outputs as [StridedView, StridedView | undefined];
  writeNumbers(odx.data, odx.dtype, dx);
  if (attrs.needWeight && odw) writeNumbers(odw.data, odw.dtype, dw);
}

const SQRT_2_PI = Math.sqrt(2 / Math.PI);
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** Φ, the standard normal CDF. */
const phi = (v: number) => 0.5 * (1 + erf(v * Math.SQRT1_2));

/** y and dy/dx of each activation at x. */
const ACTIVATIONS: Record<string, [(v: number) => number, (v: number) => number]> = {
  gelu: [(v) => v * phi(v), (v) => phi(v) + (v * Math.exp(-0.5 * v * v)) / Math.sqrt(2 * Math.PI)],
  geluTanh: [
    (v) => 0.5 * v * (1 + Math.tanh(SQRT_2_PI * (v + 0.044715 * v ** 3))),
    (v) => {
      const t = Math.tanh(SQRT_2_PI * (v + 0.044715 * v ** 3));
      return 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_PI * (1 + 3 * 0.044715 * v * v);
    },
  ],
  silu: [(v) => v * sigmoid(v), (v) => sigmoid(v) * (1 + v * (1 - sigmoid(v)))],
};

/** y(x) of the activation named as the kernels name it ("gelu", "geluTanh", "silu"). */
export function activationFn(name: string): (v: number) => number {
  return (ACTIVATIONS[name] as [(v: number) => number, unknown])[0];
}

function activation(which: (attrs: object) => string) {
  return {
    forward({ inputs, outputs, attrs }: KernelArgs<object>): void {
      const [f] = ACTIVATIONS[which(attrs)] as [(v: number) => number, unknown];
      const out = outputs[0] as StridedView;
      writeNumbers(out.data, out.dtype, readNumbers(inputs[0] as StridedView).map(f));
    },
    backward({ inputs, outputs, attrs }: KernelArgs<object>): void {
      const [, df] = ACTIVATIONS[which(attrs)] as [unknown, (v: number) => number];
      const x = readNumbers(inputs[0] as StridedView);
      const dy = readNumbers(inputs[1] as StridedView);
      const out = outputs[0] as StridedView;
      writeNumbers(
        out.data,
        out.dtype,
        x.map((v, i) => (dy[i] as number) * df(v)),
      );
    },
  };
}
const gelu = activation((a) => ((a as GeluAttrs).approximate === "tanh" ? "geluTanh" : "gelu"));
const silu = activation(() => "silu");

export const fusedKernels: KernelRecord[] = [
  { op: "softmax", fn: softmaxKernel },
  { op: "softmaxBackward", fn: softmaxBackwardKernel },
  { op: "logSoftmax", fn: logSoftmaxKernel },
  { op: "logSoftmaxBackward", fn: logSoftmaxBackwardKernel },
  { op: "layerNorm", fn: layerNormKernel },
  { op: "layerNormBackward", fn: layerNormBackwardKernel },
  { op: "rmsNorm", fn: rmsNormKernel },
  { op: "rmsNormBackward", fn: rmsNormBackwardKernel },
  { op: "gelu", fn: gelu.forward },
  { op: "geluBackward", fn: gelu.backward },
  { op: "silu", fn: silu.forward },
  { op: "siluBackward", fn: silu.backward },
];
