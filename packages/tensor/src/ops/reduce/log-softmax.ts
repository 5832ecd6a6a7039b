import type { Tensor } from "../../tensor.ts";
import { sub } from "../elementwise/binary.ts";
import { toFloat } from "../util.ts";
import { logsumexp } from "./logsumexp.ts";

/** log softmax along `dim`: x − logsumexp(x). */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  const xf = toFloat(x);
  return sub(xf, logsumexp(xf, dim, true));
}
