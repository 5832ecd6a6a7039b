import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { normInputs } from "./norm-inputs.ts";

/**
 * RMS normalisation (Zhang & Sennrich, 2019) over the last dim: x / √(mean(x²) + eps) · weight,
 * `weight` of shape [x's last dim]. One fused primitive (and one for its backward).
 *
 * @example
 * const y = rmsNorm(hidden, weight, 1e-6);
 */
export function rmsNorm(x: Tensor, weight?: Tensor | null, eps = 1e-6): Tensor {
  // rstd only when the call records a backward (the primitive then adds it itself)
  return apply("rmsNorm", normInputs(x, [weight]), { eps, weight: weight != null, stats: false })[0] as Tensor;
}
