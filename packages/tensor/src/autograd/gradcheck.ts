/**
 * Finite-difference gradient checking. The loss is Σ w·f(inputs) with fixed random weights w,
 * so every output element contributes with a different weight; central differences in
 * float32 with step `eps` are compared with the analytic gradient.
 */
import { readNumbers, writeNumbers } from "../access.ts";
import { isFloating } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { apply1 } from "../ops/apply.ts";
import { Generator } from "../random/generator.ts";
import type { Tensor } from "../tensor.ts";
import { noGrad } from "./grad-mode.ts";

/** Options of {@link gradcheck}. */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

/** One mismatch found by {@link gradcheck}. */
export interface GradMismatch {
  input: number;
  index: number;
  analytic: number;
  numeric: number;
}

function weightedSum(out: Tensor, w: Tensor): Tensor {
  return apply1("sum", [apply1("mul", [out, w])], { dims: out.shape.map((_, i) => i), keepdim: false });
}

/**
 * Checks the gradient of `fn` with respect to every input that requires grad. Inputs must be
 * contiguous float32 leaves (build non-contiguous views inside `fn`). Returns the mismatches
 * (empty when the check passes).
 *
 * @example
 * const x = randn([3, 4]).requiresGrad_();
 * assert.deepEqual(gradcheck((t) => t.transpose().exp(), [x]), []);
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): GradMismatch[] {
  const eps = opts.eps ?? 1e-3;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 2e-2;
  for (const t of inputs) {
    if (t.requiresGrad && (t.dtype !== "float32" || !t.isContiguous() || !t.isLeaf)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_ARGUMENT",
        `gradcheck: inputs that require grad must be contiguous float32 leaves, got ${t.describe()}`,
      );
    }
  }
  const probe = noGrad(() => fn(...inputs));
  const g = new Generator(opts.seed ?? 7);
  const w = apply1(
    "cast",
    [
      apply1("random", [], {
        shape: [...probe.shape],
        dtype: "float32",
        distribution: "normal",
        seed: g.nextUint32(),
        a: 0,
        b: 1,
      }),
    ],
    {
      dtype: isFloating(probe.dtype) ? probe.dtype : "float32",
    },
  );
  for (const t of inputs) t.grad = null;
  weightedSum(fn(...inputs), w).backward();
  const mismatches: GradMismatch[] = [];
  inputs.forEach((t, k) => {
    if (!t.requiresGrad) return;
    const analytic = t.grad ? readNumbers(t.grad.view_()) : new Float64Array(t.size);
    const data = t.view_().data;
    for (let i = 0; i < t.size; i++) {
      const at = t.offset + i;
      const orig = data[at] as number;
      const f = (v: number) => {
        writeNumbers(data, t.dtype, [v], at);
        t.storage.bumpVersion();
        return noGrad(() => weightedSum(fn(...inputs), w).item());
      };
      const hi = orig + eps;
      const lo = orig - eps;
      const plus = f(hi);
      const minus = f(lo);
      writeNumbers(data, t.dtype, [orig], at);
      t.storage.bumpVersion();
      // use the step actually taken after float32 rounding
      const step = Math.fround(hi) - Math.fround(lo);
      const numeric = (plus - minus) / step;
      const a = analytic[i] as number;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric)))
        mismatches.push({ input: k, index: i, analytic: a, numeric });
    }
  });
  return mismatches;
}
