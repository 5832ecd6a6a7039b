import { HearthTensorError } from "../../errors.ts";
import { fmt } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { normInputs } from "./norm-inputs.ts";

/**
 * Layer normalisation (Ba et al., 2016) over the trailing `normalizedShape` dims:
 * (x − mean) / √(var + eps) · weight + bias, with the biased variance, as PyTorch. `weight`
 * and `bias` have shape `normalizedShape`. One fused primitive (and one for its backward).
 *
 * @example
 * const y = layerNorm(x, [768], weight, bias);
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((s, i) => s !== normalizedShape[i])) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `layerNorm: input ${x.describe()} must end with normalizedShape ${fmt(normalizedShape)}`,
    );
  }
  const inputs = normInputs(x, [weight, bias]);
  return apply("layerNorm", inputs, {
    normalizedDims: k,
    eps,
    weight: weight != null,
    bias: bias != null,
    // mean and rstd only when the call records a backward (the primitive then adds them itself)
    stats: false,
  })[0] as Tensor;
}
