/**
 * Float conversions on the native kernels: the `cast` primitive between float32, bfloat16 and
 * float16 (one vectorised pass, round to nearest even, bit-identical with the `js` reference),
 * and `halfFallback`, which runs an op on bfloat16/float16 operands through its native float32
 * kernel: it widens the storage span each input view touches (so broadcast and strided views
 * stay views), computes in float32 and rounds the outputs once. Other dtypes go to `js`.
 */
import type { StridedView } from "../../access.ts";
import type { DType } from "../../dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import { contiguousStrides, isContiguous, numel } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

type FloatDType = "float32" | "bfloat16" | "float16";
const isHalf = (d: DType) => d === "bfloat16" || d === "float16";
const isFloatDType = (d: DType): d is FloatDType => d === "float32" || isHalf(d);

/** The view's elements as one contiguous run of its dtype (a copy unless already contiguous). */
function contiguousRun(addon: NativeAddon, v: StridedView): StridedView["data"] {
  const n = numel(v.shape);
  if (isContiguous(v.shape, v.strides)) return v.data.subarray(v.offset, v.offset + n);
  const tmp = new (v.data.constructor as new (n: number) => StridedView["data"])(n);
  addon.copy(v.data, v.offset, v.strides, tmp, 0, contiguousStrides(v.shape), v.shape);
  return tmp;
}

/** The `cast` record: native between float dtypes, `fallback` (same-dtype copies, ints) otherwise. */
export function castKernel(addon: NativeAddon, fallback: KernelFn): KernelRecord {
  return {
    op: "cast",
    fn: (args: KernelArgs) => {
      const [x] = args.inputs;
      const [out] = args.outputs;
      if (!x || !out || x.dtype === out.dtype || !isFloatDType(x.dtype) || !isFloatDType(out.dtype)) {
        fallback(args);
        return;
      }
      addon.convert(contiguousRun(addon, x), x.dtype, out.data, out.dtype, numel(out.shape));
    },
  };
}

/** float32 copy of the storage span `v` touches, and the view rebased onto it. */
function widen(addon: NativeAddon, v: StridedView): StridedView {
  let lo = v.offset;
  let hi = v.offset;
  if (numel(v.shape) > 0) {
    v.shape.forEach((s, d) => {
      const st = v.strides[d] as number;
      if (st < 0) lo += (s - 1) * st;
      else hi += (s - 1) * st;
    });
  }
  const n = numel(v.shape) === 0 ? 0 : hi - lo + 1;
  const data = new Float32Array(n);
  addon.convert(v.data.subarray(lo, lo + n), v.dtype as FloatDType, data, "float32", n);
  return { ...v, dtype: "float32", data, offset: v.offset - lo };
}

/**
 * A kernel for `op` that runs bfloat16/float16 arguments through `native()` (the op's native
 * float32 kernel) and everything else through `js`.
 */
export function halfFallback(addon: NativeAddon, js: KernelFn, native: () => KernelFn): KernelFn {
  return (args: KernelArgs) => {
    const halves = args.inputs.length > 0 && args.inputs.every((v) => isHalf(v.dtype));
    const outsOk = args.outputs.every((o) => isFloatDType(o.dtype) || o.dtype === "bool");
    if (!halves || !outsOk) {
      js(args);
      return;
    }
    const inputs = args.inputs.map((v) => widen(addon, v));
    const outputs = args.outputs.map((o) =>
      isHalf(o.dtype) ? { ...o, dtype: "float32" as const, data: new Float32Array(numel(o.shape)) } : o,
    );
    native()({ inputs, outputs, attrs: args.attrs });
    outputs.forEach((o, i) => {
      const dst = args.outputs[i] as StridedView;
      if (o !== dst) addon.convert(o.data, "float32", dst.data, dst.dtype as FloatDType, numel(o.shape));
    });
  };
}
