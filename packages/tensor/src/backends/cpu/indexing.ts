/**
 * `gather` and `scatterAdd` (any dtype: integers wrap, bool ORs, 16-bit floats accumulate in
 * float32) on the native indexing kernels; int32/int64 indices. Index errors keep the package's
 * HearthTensorError type.
 */
import { HearthTensorError } from "../../errors.ts";
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import { contiguousStrides } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

function rethrow(error: unknown): never {
  const e = error as { code?: string; message?: string };
  if (e.code === "HEARTH_TENSOR_INDEX") throw new HearthTensorError("HEARTH_TENSOR_INDEX", e.message ?? "");
  throw error;
}

/** Kernel records for the native indexing ops; `js(op)` gives fallbacks. */
export function indexingKernels(addon: NativeAddon & AnyDTypeAddon, js: (op: string) => KernelFn): KernelRecord[] {
  const gatherFallback = js("gather");
  const scatterFallback = js("scatterAdd");
  const isIndex = (d: string) => d === "int64" || d === "int32";
  return [
    {
      op: "gather",
      fn: (args: KernelArgs<{ dim: number }>) => {
        const [x, index] = args.inputs;
        const [out] = args.outputs;
        if (!x || !index || !out || !isIndex(index.dtype) || x.dtype !== out.dtype) {
          gatherFallback(args);
          return;
        }
        try {
          addon.gather(
            x.data,
            x.offset,
            x.strides,
            x.shape[args.attrs.dim] as number,
            index.data as BigInt64Array | Int32Array,
            index.offset,
            index.strides,
            out.data,
            index.shape,
            args.attrs.dim,
          );
        } catch (error) {
          rethrow(error);
        }
      },
    },
    {
      op: "scatterAdd",
      fn: (args: KernelArgs<{ dim: number }>) => {
        const [x, index, src] = args.inputs;
        const [out] = args.outputs;
        if (!x || !index || !src || !out || !isIndex(index.dtype) || x.dtype !== src.dtype || x.dtype !== out.dtype) {
          scatterFallback(args);
          return;
        }
        // The output is zero-filled: a broadcast zero (gather's backward) needs no copy, nor
        // does x when the output is x itself (the engine adding into a pending gradient).
        const zero = x.strides.every((st) => st === 0) && Number(x.data[x.offset]) === 0;
        const itself = x.data === out.data && x.offset === 0;
        if (!zero && !itself)
          addon.copy(x.data, x.offset, x.strides, out.data, 0, contiguousStrides(out.shape), out.shape);
        try {
          addon.scatterAdd(
            out.data,
            out.shape,
            index.data as BigInt64Array | Int32Array,
            index.offset,
            index.strides,
            src.data,
            src.offset,
            src.strides,
            index.shape,
            args.attrs.dim,
            out.dtype,
          );
        } catch (error) {
          rethrow(error);
        }
      },
    },
  ];
}
