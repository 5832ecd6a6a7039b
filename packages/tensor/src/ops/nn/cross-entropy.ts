import { isFloating } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { fmt } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { div, ne } from "../elementwise/binary.ts";
import { movedim } from "../movement/movedim.ts";
import { reshape, unsqueeze } from "../movement/reshape.ts";
import { sum } from "../reduce/sum.ts";
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
  const flat = reshape(target, [-1]);
  const t = flat.dtype === "int64" || flat.dtype === "int32" ? flat : cast(flat, "int64");
  checkTargets(t, classes, ignore, input);
  // One fused primitive: per-row loss (0 where ignored) and the saved log-sum-exp.
  const [rowLoss] = apply("crossEntropy", [logits2d, t], { ignoreIndex: ignore, labelSmoothing: eps }) as [Tensor];
  if (opts.reduction === "none") return reshape(rowLoss, [...target.shape]);
  if (opts.reduction === "sum") return sum(rowLoss);
  return div(sum(rowLoss), sum(cast(ne(t, ignore), rowLoss.dtype)));
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
