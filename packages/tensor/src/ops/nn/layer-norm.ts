import { HearthTensorError } from "../../errors.ts";
import { fmt } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { add, div, mul, sub } from "../elementwise/binary.ts";
import { sqrt } from "../elementwise/unary.ts";
import { mean } from "../reduce/sum.ts";
import { toFloat } from "../util.ts";

/**
 * Layer normalisation (Ba et al., 2016) over the trailing `normalizedShape` dims:
 * (x − mean) / √(var + eps) · weight + bias, with the biased variance, as PyTorch.
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
  if (k > x.ndim || tail.some((s, i) => s !== normalizedShape[i])) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `layerNorm: input ${x.describe()} must end with normalizedShape ${fmt(normalizedShape)}`,
    );
  }
  const xf = toFloat(x);
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mu = mean(xf, dims, true);
  const centered = sub(xf, mu);
  const v = mean(mul(centered, centered), dims, true);
  let y = div(centered, sqrt(add(v, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}
