/**
 * Comparisons (eq ne lt le gt ge) of views broadcast to the output shape on the native kernels,
 * into bool (0/1 bytes): float32, and the integer dtypes and bool. Other dtypes go to
 * `fallback(op)`.
 */
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import type { NativeAddon } from "../../native/index.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";
import { intBinary } from "./elementwise.ts";

const COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"];

/** Kernel records for the comparison primitives. */
export function compareKernels(addon: NativeAddon & AnyDTypeAddon, fallback: (op: string) => KernelFn): KernelRecord[] {
  return COMPARE.map((op) => {
    const other = fallback(op);
    return {
      op,
      fn: (args: KernelArgs) => {
        const [a, b] = args.inputs;
        const [out] = args.outputs;
        if (!a || !b || !out || a.dtype !== "float32" || b.dtype !== "float32") {
          if (!a || !b || !out || !intBinary(addon, op, a, b, out)) other(args);
          return;
        }
        addon.compare(
          op,
          a.data as Float32Array,
          a.offset,
          a.strides,
          b.data as Float32Array,
          b.offset,
          b.strides,
          out.data as Uint8Array,
          out.shape,
        );
      },
    };
  });
}
