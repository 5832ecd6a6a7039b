import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { toFloat } from "../util.ts";

/** log softmax along `dim`: x − logsumexp(x), one fused primitive. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return apply1("logSoftmax", [toFloat(x)], { dim });
}
