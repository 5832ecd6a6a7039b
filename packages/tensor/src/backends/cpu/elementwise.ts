/**
 * float32 elementwise and reduction primitives on the native kernels (strided and broadcast
 * views are read in place, big tensors split over the thread pool), and the integer unary and
 * binary ops on the native integer kernels. Other dtypes go to `js(op)`, explicitly.
 */
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

const UNARY = ["neg", "abs", "sign", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "erf"];
const BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"];
const REDUCE = ["sum", "amax", "amin"];
const INT = new Set(["int8", "uint8", "int32", "int64"]);
type View = KernelArgs["inputs"][number];

/**
 * `out = op(a, b)` on the native integer kernels when a and b share an integer dtype (bool too
 * for comparisons); false when they do not take it.
 */
export function intBinary(addon: AnyDTypeAddon, op: string, a: View, b: View, out: View): boolean {
  if (a.dtype !== b.dtype || !(INT.has(a.dtype) || (a.dtype === "bool" && out.dtype === "bool"))) return false;
  if (out.dtype !== a.dtype && out.dtype !== "bool") return false;
  return addon.intBinary(op, a.dtype, a.data, a.offset, a.strides, b.data, b.offset, b.strides, out.data, out.shape);
}

/** Kernel records for the native float32 elementwise/reduction ops; `js(op)` gives fallbacks. */
export function elementwiseKernels(addon: NativeAddon & AnyDTypeAddon, js: (op: string) => KernelFn): KernelRecord[] {
  const records: KernelRecord[] = [];
  for (const op of UNARY) {
    const fallback = js(op);
    records.push({
      op,
      fn: (args: KernelArgs) => {
        const [x] = args.inputs;
        const [out] = args.outputs;
        if (!x || !out || x.dtype !== "float32" || out.dtype !== "float32") {
          const int = x && out && x.dtype === out.dtype && INT.has(x.dtype);
          if (!int || !addon.intUnary(op, x.dtype, x.data, x.offset, x.strides, out.data, out.shape)) fallback(args);
          return;
        }
        addon.unary(op, x.data as Float32Array, x.offset, x.strides, out.data as Float32Array, out.shape);
      },
    });
  }
  for (const op of BINARY) {
    const fallback = js(op);
    records.push({
      op,
      fn: (args: KernelArgs) => {
        const [a, b] = args.inputs;
        const [out] = args.outputs;
        if (!a || !b || !out || a.dtype !== "float32" || b.dtype !== "float32" || out.dtype !== "float32") {
          if (!a || !b || !out || !intBinary(addon, op, a, b, out)) fallback(args);
          return;
        }
        addon.binary(
          op,
          a.data as Float32Array,
          a.offset,
          a.strides,
          b.data as Float32Array,
          b.offset,
          b.strides,
          out.data as Float32Array,
          out.shape,
        );
      },
    });
  }
  for (const op of REDUCE) {
    const fallback = js(op);
    records.push({
      op,
      fn: (args: KernelArgs<{ dims: number[] }>) => {
        const [x] = args.inputs;
        const [out] = args.outputs;
        if (!x || !out || x.dtype !== "float32" || out.dtype !== "float32") {
          const int = x && out && (INT.has(x.dtype) || x.dtype === "bool");
          if (!int || !addon.intReduce(op, x.dtype, x.data, x.offset, x.strides, x.shape, args.attrs.dims, out.data))
            fallback(args);
          return;
        }
        addon.reduce(
          op,
          x.data as Float32Array,
          x.offset,
          x.strides,
          x.shape,
          args.attrs.dims,
          out.data as Float32Array,
        );
      },
    });
  }
  const whereFallback = js("where");
  records.push({
    op: "where",
    fn: (args: KernelArgs) => {
      const [cond, a, b] = args.inputs;
      const [out] = args.outputs;
      if (!cond || !a || !b || !out || cond.dtype !== "bool" || a.dtype !== out.dtype || b.dtype !== out.dtype) {
        whereFallback(args);
        return;
      }
      addon.where(
        cond.data as Uint8Array,
        cond.offset,
        cond.strides,
        a.data,
        a.offset,
        a.strides,
        b.data,
        b.offset,
        b.strides,
        out.data,
        out.shape,
      );
    },
  });
  // Same-dtype copies (contiguous, and cast to the same dtype) for every dtype, bit-exact; the
  // output's strides are honoured because autograd copies into strided gradients.
  for (const op of ["contiguous", "cast"]) {
    const fallback = js(op);
    records.push({
      op,
      fn: (args: KernelArgs) => {
        const [x] = args.inputs;
        const [out] = args.outputs;
        if (!x || !out || x.dtype !== out.dtype) {
          fallback(args);
          return;
        }
        addon.copy(x.data, x.offset, x.strides, out.data, out.offset, out.strides, out.shape);
      },
    });
  }
  return records;
}
