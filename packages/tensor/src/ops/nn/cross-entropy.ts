import { isFloating } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { fmt } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { add, div, mul, ne } from "../elementwise/binary.ts";
import { neg } from "../elementwise/unary.ts";
import { where } from "../elementwise/where.ts";
import { gather } from "../movement/gather.ts";
import { movedim } from "../movement/movedim.ts";
import { reshape, squeeze, unsqueeze } from "../movement/reshape.ts";
import { logSoftmax } from "../reduce/log-softmax.ts";
import { mean, sum } from "../reduce/sum.ts";
import { cast } from "../util.ts";

/** Options of {@link crossEntropy}. */
export interface CrossEntropyOptions {
  /** Targets equal to this are skipped (default −100, as PyTorch). */
  ignoreIndex?: number;
  /** ε: the target becomes (1−ε)·one-hot + ε/C (default 0). */
  labelSmoothing?: number;
  /** "mean" over non-ignored targets (default), "sum", or "none". */
  reduction?: "mean" | "sum" | "none";
}

/**
 * Cross-entropy between `input` logits [N, C] (or [N, C, d…], class dim 1 as PyTorch) and
 * integer class `target` [N] (or [N, d…]).
 *
 * @example
 * const loss = crossEntropy(logits.reshape([-1, vocab]), labels.reshape([-1]));
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const ignore = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (!isFloating(input.dtype) || isFloating(target.dtype)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `crossEntropy: needs float logits and integer targets, got input ${input.describe()} and target ${target.describe()}`,
    );
  }
  const expected = input.ndim >= 2 ? [input.shape[0], ...input.shape.slice(2)] : [];
  if (input.ndim < 1 || target.ndim !== expected.length || target.shape.some((s, i) => s !== expected[i])) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `crossEntropy: target must have shape ${fmt(expected as number[])} for input ${input.describe()}, got ${target.describe()}`,
    );
  }
  if (!(eps >= 0 && eps <= 1)) {
    throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", `crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  }
  const classes = input.shape[Math.min(1, input.ndim - 1)] as number;
  const logits2d =
    input.ndim > 2 ? reshape(movedim(input, 1, -1), [-1, classes]) : input.ndim === 1 ? unsqueeze(input, 0) : input;
  const t = reshape(target, [-1]);
  checkTargets(t, classes, ignore, input);
  const lsm = logSoftmax(logits2d, -1);
  const valid = ne(t, ignore);
  const safe = where(valid, t, 0);
  const nll = neg(squeeze(gather(lsm, 1, unsqueeze(cast(safe, "int64"), 1)), 1));
  let loss = eps > 0 ? add(mul(nll, 1 - eps), mul(neg(mean(lsm, -1)), eps)) : nll;
  loss = where(valid, loss, 0);
  if (opts.reduction === "none") return reshape(loss, [...target.shape]);
  if (opts.reduction === "sum") return sum(loss);
  return div(sum(loss), sum(cast(valid, loss.dtype)));
}

function checkTargets(t: Tensor, classes: number, ignore: number, input: Tensor): void {
  const values = t.dataSync();
  for (const raw of values) {
    const v = Number(raw);
    if (v !== ignore && (v < 0 || v >= classes)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_INDEX",
        `crossEntropy: argument 'target' holds class ${v}, outside [0, ${classes}) for input ${input.describe()} (ignoreIndex ${ignore})`,
      );
    }
  }
}
