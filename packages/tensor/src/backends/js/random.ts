/** Random kernels of the `js` backend, drawing from a generator seeded by the op's `seed`. */
import { readNumbers, writeNumbers } from "../../access.ts";
import type { DType } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { Generator } from "../../random/generator.ts";
import type { KernelArgs, KernelRecord } from "../types.ts";

interface RandomAttrs {
  shape: number[];
  dtype: DType;
  distribution: "uniform" | "normal";
  seed: number;
  /** uniform: low; normal: mean */
  a: number;
  /** uniform: high; normal: std */
  b: number;
}

export const randomKernels: KernelRecord[] = [
  {
    op: "random",
    fn: ({ outputs: [out], attrs }: KernelArgs<RandomAttrs>) => {
      if (!out) return;
      const g = new Generator(attrs.seed);
      const res = new Float64Array(out.data.length);
      if (attrs.distribution === "uniform") {
        for (let i = 0; i < res.length; i++) res[i] = attrs.a + (attrs.b - attrs.a) * g.random();
        if (out.dtype !== "float32" && out.dtype !== "float16" && out.dtype !== "bfloat16") {
          for (let i = 0; i < res.length; i++) res[i] = Math.floor(res[i] as number);
        }
      } else {
        for (let i = 0; i < res.length; i++) res[i] = attrs.a + attrs.b * g.normal();
      }
      writeNumbers(out.data, out.dtype, res);
    },
  },
  {
    op: "multinomial",
    fn: ({
      inputs: [probs],
      outputs: [out],
      attrs,
    }: KernelArgs<{ numSamples: number; replacement: boolean; seed: number }>) => {
      if (!probs || !out) return;
      const g = new Generator(attrs.seed);
      const k = probs.shape[probs.shape.length - 1] as number;
      const p = readNumbers(probs);
      const rows = k === 0 ? 0 : p.length / k;
      const res = new Float64Array(rows * attrs.numSamples);
      for (let r = 0; r < rows; r++) {
        const w = p.slice(r * k, (r + 1) * k);
        for (const v of w) {
          if (!(v >= 0) || !Number.isFinite(v)) {
            throw new HearthTensorError(
              "HEARTH_TENSOR_ARGUMENT",
              `multinomial: argument 'probs' must be finite and non-negative, got ${v} in row ${r}`,
            );
          }
        }
        for (let s = 0; s < attrs.numSamples; s++) {
          let total = 0;
          for (const v of w) total += v;
          if (total <= 0) {
            throw new HearthTensorError(
              "HEARTH_TENSOR_ARGUMENT",
              `multinomial: row ${r} of 'probs' has no positive weight left`,
            );
          }
          let u = g.random() * total;
          let pick = k - 1;
          for (let i = 0; i < k; i++) {
            u -= w[i] as number;
            if (u < 0 && (w[i] as number) > 0) {
              pick = i;
              break;
            }
          }
          while ((w[pick] as number) <= 0) pick--;
          res[r * attrs.numSamples + s] = pick;
          if (!attrs.replacement) w[pick] = 0;
        }
      }
      writeNumbers(out.data, out.dtype, res);
    },
  },
];
