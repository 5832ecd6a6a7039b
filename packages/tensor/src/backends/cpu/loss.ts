/**
 * `crossEntropy` and `crossEntropyBackward` on the addon's fused row kernels for float32 logits
 * whose rows are unit-stride (any row stride); other dtypes and layouts go to the `js`
 * reference kernels. Index errors keep the package's HearthTensorError type.
 */
import { HearthTensorError } from "../../errors.ts";
import type { CrossEntropyRowsArgs, LossAddon } from "../../native/loss.ts";
import type { CrossEntropyAttrs } from "../../ops/primitives-loss.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

function rethrow(error: unknown): never {
  const e = error as { code?: string; message?: string };
  if (e.code === "HEARTH_TENSOR_INDEX") throw new HearthTensorError("HEARTH_TENSOR_INDEX", e.message ?? "");
  throw error;
}

type View = KernelArgs["inputs"][number];

/** Kernel records for the native loss ops; `js(op)` gives fallbacks. */
export function lossKernels(addon: LossAddon, js: (op: string) => KernelFn): KernelRecord[] {
  const forwardFallback = js("crossEntropy");
  const backwardFallback = js("crossEntropyBackward");
  // float32 rows of unit stride and at least one class.
  const usable = (x: View) => x.dtype === "float32" && x.strides[1] === 1 && (x.shape[1] as number) > 0;
  // The arguments both native calls start with: logits rows, targets, ignoreIndex, smoothing.
  const rows = (x: View, t: View, attrs: CrossEntropyAttrs): CrossEntropyRowsArgs => [
    x.data as Float32Array,
    x.offset,
    x.strides[0] as number,
    x.shape[0] as number,
    x.shape[1] as number,
    t.data as BigInt64Array | Int32Array,
    t.offset,
    t.strides[0] as number,
    attrs.ignoreIndex,
    attrs.labelSmoothing,
  ];
  return [
    {
      op: "crossEntropy",
      fn: (args: KernelArgs<CrossEntropyAttrs>) => {
        const [x, t] = args.inputs;
        const [loss, lse] = args.outputs;
        if (!x || !t || !loss || !lse || !usable(x)) {
          forwardFallback(args);
          return;
        }
        try {
          addon.crossEntropyRows(...rows(x, t, args.attrs), loss.data as Float32Array, lse.data as Float32Array);
        } catch (error) {
          rethrow(error);
        }
      },
    },
    {
      op: "crossEntropyBackward",
      fn: (args: KernelArgs<CrossEntropyAttrs>) => {
        const [x, t, lse, g] = args.inputs;
        const [dx] = args.outputs;
        if (!x || !t || !lse || !g || !dx || !usable(x)) {
          backwardFallback(args);
          return;
        }
        try {
          addon.crossEntropyBackwardRows(
            ...rows(x, t, args.attrs),
            lse.data as Float32Array,
            lse.offset,
            lse.strides[0] as number,
            g.data as Float32Array,
            g.offset,
            g.strides[0] as number,
            dx.data as Float32Array,
          );
        } catch (error) {
          rethrow(error);
        }
      },
    },
  ];
}
