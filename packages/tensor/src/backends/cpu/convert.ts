/**
 * Float conversions on the native kernels: the `cast` primitive between float32, bfloat16 and
 * float16 (one vectorised pass, round to nearest even, bit-identical with the `js` reference),
 * and `halfFallback`, which runs an op on bfloat16/float16 operands through its native float32
 * kernel: it widens the storage span each input view touches (so broadcast and strided views
 * stay views), computes in float32 and rounds the outputs once. Integer and bool casts run on
 * the native any-dtype cast, bit-identical with the js kernel.
 */
import type { StridedView } from "../../access.ts";
import type { DType } from "../../dtype.ts";
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import { contiguousStrides, isContiguous, numel } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

type FloatDType = "float32" | "bfloat16" | "float16";

/**
 * Temporary typed arrays from the addon's allocator, handed back by `release()` (its size-class
 * cache reuses them at once) instead of left to V8's garbage collector, whose external-memory
 * pressure would otherwise trigger collections in hot loops.
 */
export class Scratch {
  private readonly buffers: ArrayBuffer[] = [];
  constructor(private readonly addon: NativeAddon) {}
  f32(n: number): Float32Array {
    const b = this.addon.allocate(4 * n);
    this.buffers.push(b);
    return new Float32Array(b, 0, n);
  }
  like(data: StridedView["data"], n: number): StridedView["data"] {
    const b = this.addon.allocate(data.BYTES_PER_ELEMENT * n);
    this.buffers.push(b);
    return new (data.constructor as new (b: ArrayBuffer, o: number, n: number) => StridedView["data"])(b, 0, n);
  }
  release(): void {
    for (const b of this.buffers) this.addon.free(b);
    this.buffers.length = 0;
  }
}
const isHalf = (d: DType) => d === "bfloat16" || d === "float16";
const isFloatDType = (d: DType): d is FloatDType => d === "float32" || isHalf(d);

/** The view's elements as one contiguous run of its dtype (a copy unless already contiguous). */
export function contiguousRun(addon: NativeAddon, v: StridedView, scratch: Scratch): StridedView["data"] {
  const n = numel(v.shape);
  if (isContiguous(v.shape, v.strides)) return v.data.subarray(v.offset, v.offset + n);
  const tmp = scratch.like(v.data, n);
  addon.copy(v.data, v.offset, v.strides, tmp, 0, contiguousStrides(v.shape), v.shape);
  return tmp;
}

/**
 * The `cast` record: float32/bfloat16/float16 pairs on the vectorised conversions, every other
 * pair (integers, bool) on the native any-dtype cast; `fallback` only without a view.
 */
export function castKernel(addon: NativeAddon & AnyDTypeAddon, fallback: KernelFn): KernelRecord {
  return {
    op: "cast",
    fn: (args: KernelArgs) => {
      const [x] = args.inputs;
      const [out] = args.outputs;
      if (!x || !out) {
        fallback(args);
        return;
      }
      if (x.dtype === out.dtype || !isFloatDType(x.dtype) || !isFloatDType(out.dtype)) {
        addon.cast(x.data, x.dtype, x.offset, x.strides, out.data, out.dtype, out.shape);
        return;
      }
      const scratch = new Scratch(addon);
      addon.convert(contiguousRun(addon, x, scratch), x.dtype, out.data, out.dtype, numel(out.shape));
      scratch.release();
    },
  };
}

/** float32 copy of the storage span `v` touches, and the view rebased onto it. */
function widen(addon: NativeAddon, v: StridedView, scratch: Scratch): StridedView {
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
  const data = scratch.f32(n);
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
    const scratch = new Scratch(addon);
    const inputs = args.inputs.map((v) => widen(addon, v, scratch));
    const outputs = args.outputs.map((o) =>
      isHalf(o.dtype) ? { ...o, dtype: "float32" as const, data: scratch.f32(numel(o.shape)) } : o,
    );
    native()({ inputs, outputs, attrs: args.attrs });
    outputs.forEach((o, i) => {
      const dst = args.outputs[i] as StridedView;
      if (o !== dst) addon.convert(o.data, "float32", dst.data, dst.dtype as FloatDType, numel(o.shape));
    });
    scratch.release();
  };
}
