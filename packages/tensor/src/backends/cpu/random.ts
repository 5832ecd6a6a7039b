/**
 * `random` on the native fill (`native/kernels/random.h`): the js generator's stream for the
 * op's seed, bit for bit. The kernel leaves the rare normals whose rounding hangs on the last
 * ulp of log/sin/cos (the C library's and V8's may differ there) to be finished here with
 * JavaScript's own Math, so every backend writes the same elements.
 */
import { writeNumbers } from "../../access.ts";
import type { DType } from "../../dtype.ts";
import type { AnyDTypeAddon } from "../../native/any-dtype.ts";
import { boxMuller } from "../../random/generator.ts";
import { numel } from "../../shape.ts";
import type { KernelArgs, KernelFn, KernelRecord } from "../types.ts";

type RandomAttrs = {
  dtype: DType;
  distribution: "uniform" | "normal";
  seed: number;
  a: number;
  b: number;
};

/** The `random` record; non-finite bounds go to `fallback` (the js kernel). */
export function randomKernels(addon: AnyDTypeAddon, fallback: KernelFn): KernelRecord[] {
  const fn = (args: KernelArgs<RandomAttrs>) => {
    const [out] = args.outputs;
    const { distribution, seed, a, b } = args.attrs;
    if (!out) return;
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      fallback(args);
      return;
    }
    const fixups = addon.randomFill(out.data, out.dtype, numel(out.shape), distribution, seed >>> 0, a, b);
    if (!fixups) return;
    const one = [0];
    for (let k = 0; k < fixups.length; k += 3) {
      const i = fixups[k] as number;
      one[0] = a + b * boxMuller(fixups[k + 1] as number, fixups[k + 2] as number, (i & 1) as 0 | 1);
      writeNumbers(out.data, out.dtype, one, i);
    }
  };
  return [{ op: "random", fn, writesAll: true }];
}
