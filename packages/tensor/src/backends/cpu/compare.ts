/**
 * Comparisons (eq ne lt le gt ge) of float32 views broadcast to the output shape on the native
 * kernel, into bool (0/1 bytes). Other dtypes go to `fallback(op)`.
 */
import type { NativeAddon } from "../../native/index.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

const COMPARE = ["eq", "ne", "lt", "le", "gt", "ge"];

/** Kernel records for the comparison primitives. */
export function compareKernels(addon: NativeAddon, fallback: (op: string) => KernelFn): KernelRecord[] {
  return COMPARE.map((op) => {
    const other = fallback(op);
    return {
      op,
      fn: (args: KernelArgs) => {
        const [a, b] = args.inputs;
        const [out] = args.outputs;
        if (!a || !b || !out || a.dtype !== "float32" || b.dtype !== "float32") {
          other(args);
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
