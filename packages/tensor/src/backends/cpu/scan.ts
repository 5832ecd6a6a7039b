/**
 * `cumsum`, `sort`, `argmax` and `argmin` of every dtype on the native kernels along a dim
 * (`native/kernels/cumsum.h`, `sort.h`, `arg-reduce.h`), reading strided views in place. 0-d
 * tensors go to the js kernels.
 */
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

/** Kernel records for `cumsum`, `sort`, `argmax` and `argmin`; `js(op)` gives fallbacks. */
export function scanKernels(addon: AnyDTypeAddon, js: (op: string) => KernelFn): KernelRecord[] {
  const cumsumFallback = js("cumsum");
  const sortFallback = js("sort");
  const cumsum = (args: KernelArgs<{ dim: number; reverse: boolean }>) => {
    const [x] = args.inputs;
    const [out] = args.outputs;
    if (!x || !out || x.shape.length === 0) {
      cumsumFallback(args);
      return;
    }
    addon.cumsum(x.data, x.dtype, x.offset, x.strides, x.shape, args.attrs.dim, args.attrs.reverse, out.data);
  };
  const sort = (args: KernelArgs<{ dim: number; descending: boolean }>) => {
    const [x] = args.inputs;
    const [values, indices] = args.outputs;
    if (!x || !values || !indices || x.shape.length === 0) {
      sortFallback(args);
      return;
    }
    addon.sort(
      x.data,
      x.dtype,
      x.offset,
      x.strides,
      x.shape,
      args.attrs.dim,
      args.attrs.descending,
      values.data,
      indices.data as BigInt64Array,
    );
  };
  const argReduce = (op: "argmax" | "argmin") => {
    const fallback = js(op);
    return (args: KernelArgs<{ dim: number }>) => {
      const [x] = args.inputs;
      const [out] = args.outputs;
      if (!x || !out || x.shape.length === 0) {
        fallback(args);
        return;
      }
      addon.argReduce(op, x.data, x.dtype, x.offset, x.strides, x.shape, args.attrs.dim, out.data as BigInt64Array);
    };
  };
  return [
    { op: "cumsum", fn: cumsum, writesAll: true },
    { op: "sort", fn: sort, writesAll: true },
    { op: "argmax", fn: argReduce("argmax"), writesAll: true },
    { op: "argmin", fn: argReduce("argmin"), writesAll: true },
  ];
}
