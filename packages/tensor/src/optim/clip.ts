import { readNumbers, writeNumbers } from "../access.ts";
import type { Tensor } from "../tensor.ts";

/**
 * Scales all gradients in place so their joint norm is at most `maxNorm` (PyTorch's
 * `clip_grad_norm_`: coefficient maxNorm / (norm + 1e-6), clamped to 1). Returns the norm
 * before clipping.
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
  const grads = [...params].map((p) => p.grad).filter((g): g is Tensor => g !== null);
  const values = grads.map((g) => readNumbers(g.view_()));
  let total = 0;
  if (normType === Number.POSITIVE_INFINITY) {
    for (const v of values) for (const x of v) total = Math.max(total, Math.abs(x));
  } else {
    // per-tensor norms first, then the norm of those norms (PyTorch's order)
    let acc = 0;
    for (const v of values) {
      let s = 0;
      for (const x of v) s += Math.abs(x) ** normType;
      acc += Math.fround(s ** (1 / normType)) ** normType;
    }
    total = acc ** (1 / normType);
  }
  const coef = Math.min(1, maxNorm / (total + 1e-6));
  if (coef < 1) {
    grads.forEach((g, i) => {
      const v = values[i] as Float64Array;
      for (let j = 0; j < v.length; j++) v[j] = Math.fround((v[j] as number) * coef);
      const gv = g.view_();
      if (g.isContiguous()) writeNumbers(gv.data, g.dtype, v, g.offset);
    });
  }
  return total;
}
