/**
 * The fused primitives (softmax, logSoftmax, layerNorm, rmsNorm, gelu, silu and their
 * backwards) on the addon's vectorised row kernels for float32; other dtypes go to the `js`
 * reference kernel of the same op, explicitly. Inputs arrive contiguous; softmax along a dim
 * other than the last is transposed to rows and back with the strided copy kernel.
 */
import type { StridedView } from "../../access.ts";
import type { NativeAddon } from "../../native/index.ts";
import type {
  GeluAttrs,
  LayerNormAttrs,
  LayerNormBackwardAttrs,
  RmsNormAttrs,
  RmsNormBackwardAttrs,
  SoftmaxAttrs,
} from "../../ops/fused-primitives.ts";
import { numel } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";
import { Scratch } from "./convert.ts";

const f32 = (v: StridedView | undefined) => (v ? (v.data as Float32Array) : null);
const allF32 = (args: KernelArgs<unknown>) =>
  args.inputs.every((v) => v.dtype === "float32") && args.outputs.every((v) => v.dtype === "float32");

/**
 * Runs `rows(ins, outs, rows, cols)` on contiguous float32 operands of one shape with `dim`
 * moved last: directly when `dim` is last, else through transposed copies.
 */
function alongDim(
  addon: NativeAddon,
  args: KernelArgs<SoftmaxAttrs>,
  run: (ins: Float32Array[], outs: Float32Array[], rows: number, cols: number) => void,
): void {
  const shape = (args.inputs[0] as StridedView).shape;
  const dim = args.attrs.dim;
  const cols = shape[dim] as number;
  const n = numel(shape);
  const rows = cols === 0 ? 0 : n / cols;
  const ins = args.inputs.map((v) => v.data as Float32Array);
  const outs = args.outputs.map((v) => v.data as Float32Array);
  const inner = numel(shape.slice(dim + 1));
  if (inner === 1 || n === 0) {
    run(ins, outs, rows, cols);
    return;
  }
  // [outer, cols, inner] <-> [outer, inner, cols]
  const outer = rows / inner;
  const logical = [outer, inner, cols];
  const strided = [cols * inner, 1, inner];
  const packed = [inner * cols, cols, 1];
  const scratch = new Scratch(addon);
  const tIns = ins.map((x) => {
    const t = scratch.f32(n);
    addon.copy(x, 0, strided, t, 0, packed, logical);
    return t;
  });
  const tOuts = outs.map(() => scratch.f32(n));
  run(tIns, tOuts, rows, cols);
  tOuts.forEach((t, i) => {
    addon.copy(t, 0, packed, outs[i] as Float32Array, 0, strided, logical);
  });
  scratch.release();
}

/** Rows of `cols` over the trailing `k` dims. */
function rowsOf(x: StridedView, k: number): [number, number] {
  const cols = numel(x.shape.slice(x.shape.length - k));
  return [cols === 0 ? 0 : numel(x.shape) / cols, cols];
}

/** Kernel records for the fused primitives; `js(op)` gives the fallbacks for other dtypes. */
export function fusedKernels(addon: NativeAddon, js: (op: string) => KernelFn): KernelRecord[] {
  // biome-ignore lint/suspicious/noExplicitAny: each kernel has its own attribute type
  const kernels: Record<string, KernelFn<any>> = {
    softmax: (args: KernelArgs<SoftmaxAttrs>) =>
      alongDim(addon, args, ([x], [y], r, c) => addon.softmaxRows(x as Float32Array, y as Float32Array, r, c)),
    logSoftmax: (args: KernelArgs<SoftmaxAttrs>) =>
      alongDim(addon, args, ([x], [y], r, c) => addon.logSoftmaxRows(x as Float32Array, y as Float32Array, r, c)),
    softmaxBackward: (args: KernelArgs<SoftmaxAttrs>) =>
      alongDim(addon, args, ([y, dy], [dx], r, c) =>
        addon.softmaxBackwardRows(y as Float32Array, dy as Float32Array, dx as Float32Array, r, c),
      ),
    logSoftmaxBackward: (args: KernelArgs<SoftmaxAttrs>) =>
      alongDim(addon, args, ([y, dy], [dx], r, c) =>
        addon.logSoftmaxBackwardRows(y as Float32Array, dy as Float32Array, dx as Float32Array, r, c),
      ),
    layerNorm: ({ inputs, outputs, attrs }: KernelArgs<LayerNormAttrs>) => {
      const x = inputs[0] as StridedView;
      const [rows, cols] = rowsOf(x, attrs.normalizedDims);
      const w = attrs.weight ? f32(inputs[1]) : null;
      const b = attrs.bias ? f32(inputs[inputs.length - 1]) : null;
      // (mean and rstd are absent with `stats: false`: the addon then skips them)
      const [y, mean, rstd] = [f32(outputs[0]) as Float32Array, f32(outputs[1]), f32(outputs[2])];
      addon.layerNormRows(x.data as Float32Array, w, b, attrs.eps, y, mean, rstd, rows, cols);
    },
    layerNormBackward: ({ inputs, outputs, attrs }: KernelArgs<LayerNormBackwardAttrs>) => {
      const x = inputs[0] as StridedView;
      const [rows, cols] = rowsOf(x, attrs.normalizedDims);
      const w = attrs.weight ? f32(inputs[1]) : null;
      const [mean, rstd, dy] = inputs.slice(attrs.weight ? 2 : 1).map(f32) as Float32Array[];
      const dw = attrs.needWeight ? f32(outputs[1]) : null;
      const db = attrs.needBias ? f32(outputs[attrs.needWeight ? 2 : 1]) : null;
      addon.layerNormBackwardRows(
        x.data as Float32Array,
        w,
        mean as Float32Array,
        rstd as Float32Array,
        dy as Float32Array,
        f32(outputs[0]) as Float32Array,
        dw,
        db,
        rows,
        cols,
      );
    },
    rmsNorm: ({ inputs, outputs, attrs }: KernelArgs<RmsNormAttrs>) => {
      const x = inputs[0] as StridedView;
      const [rows, cols] = rowsOf(x, 1);
      const [y, rstd] = [f32(outputs[0]) as Float32Array, f32(outputs[1])]; // (no rstd with `stats: false`)
      addon.rmsNormRows(x.data as Float32Array, attrs.weight ? f32(inputs[1]) : null, attrs.eps, y, rstd, rows, cols);
    },
    rmsNormBackward: ({ inputs, outputs, attrs }: KernelArgs<RmsNormBackwardAttrs>) => {
      const x = inputs[0] as StridedView;
      const [rows, cols] = rowsOf(x, 1);
      const [rstd, dy] = inputs.slice(attrs.weight ? 2 : 1).map(f32) as Float32Array[];
      addon.rmsNormBackwardRows(
        x.data as Float32Array,
        attrs.weight ? f32(inputs[1]) : null,
        rstd as Float32Array,
        dy as Float32Array,
        f32(outputs[0]) as Float32Array,
        attrs.needWeight ? f32(outputs[1]) : null,
        rows,
        cols,
      );
    },
    gelu: ({ inputs: [x], outputs: [y], attrs }: KernelArgs<GeluAttrs>) =>
      addon.activation(
        attrs.approximate === "tanh" ? "geluTanh" : "gelu",
        f32(x) as Float32Array,
        f32(y) as Float32Array,
        numel((y as StridedView).shape),
      ),
    geluBackward: ({ inputs: [x, dy], outputs: [dx], attrs }: KernelArgs<GeluAttrs>) =>
      addon.activationBackward(
        attrs.approximate === "tanh" ? "geluTanh" : "gelu",
        f32(x) as Float32Array,
        f32(dy) as Float32Array,
        f32(dx) as Float32Array,
        numel((dx as StridedView).shape),
      ),
    silu: ({ inputs: [x], outputs: [y] }: KernelArgs) =>
      addon.activation("silu", f32(x) as Float32Array, f32(y) as Float32Array, numel((y as StridedView).shape)),
    siluBackward: ({ inputs: [x, dy], outputs: [dx] }: KernelArgs) =>
      addon.activationBackward(
        "silu",
        f32(x) as Float32Array,
        f32(dy) as Float32Array,
        f32(dx) as Float32Array,
        numel((dx as StridedView).shape),
      ),
  };
  return Object.entries(kernels).map(([op, native]) => {
    const fallback = js(op);
    // The norms' parameter gradients are sums both kernels accumulate into: they start at zero
    // here, so the op's outputs may come from recycled memory (`writesAll`, cpu/index.ts) without
    // zero-filling the [rows, cols] dx that every row overwrites.
    const sums = op === "layerNormBackward" || op === "rmsNormBackward";
    // biome-ignore lint/suspicious/noExplicitAny: each kernel has its own attribute type
    const fn = (args: KernelArgs<any>) => {
      if (sums) for (const o of args.outputs.slice(1)) (o.data as Float32Array).fill(0);
      return allF32(args) ? native(args) : fallback(args);
    };
    return { op, fn, contiguousInputs: true };
  });
}
