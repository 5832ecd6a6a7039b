/** Triangular masks: tril, triu (on the last two dims). */
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { arange } from "../creation/range.ts";
import { scalar } from "../creation/tensor.ts";
import { ge, le, sub } from "../elementwise/binary.ts";
import { where } from "../elementwise/where.ts";
import { unsqueeze } from "./reshape.ts";

function offsets(op: string, x: Tensor): Tensor {
  if (x.ndim < 2) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${op}: argument 'x' must have at least 2 dims, got ${x.describe()}`,
    );
  }
  const rows = x.shape[x.ndim - 2] as number;
  const cols = x.shape[x.ndim - 1] as number;
  // col - row for every position of the last two dims
  return sub(
    arange(cols, undefined, 1, { dtype: "int64" }),
    unsqueeze(arange(rows, undefined, 1, { dtype: "int64" }), 1),
  );
}

/** Keeps elements on and below the `diagonal`-th diagonal, zeroes the rest. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return where(le(offsets("tril", x), diagonal), x, scalar(0, x.dtype));
}

/** Keeps elements on and above the `diagonal`-th diagonal, zeroes the rest. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return where(ge(offsets("triu", x), diagonal), x, scalar(0, x.dtype));
}
