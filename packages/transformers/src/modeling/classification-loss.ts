/**
 * The losses of classification heads, chosen by the config's `problem_type` as Python's
 * `*ForSequenceClassification` does: "regression" (MSE), "single_label_classification"
 * (cross-entropy) or "multi_label_classification" (BCE with logits). Without a
 * `problem_type`, one label means regression, integer labels single-label, float labels
 * multi-label.
 */
import {
  abs,
  add,
  crossEntropy,
  exp,
  log1p,
  mean,
  mseLoss,
  mul,
  neg,
  relu,
  reshape,
  squeeze,
  sub,
  type Tensor,
  to,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import type { ClassifierOutput } from "./encoder-outputs.ts";

/** Python's `problem_type` values. */
export type ProblemType = "regression" | "single_label_classification" | "multi_label_classification";

/** The problem type Python infers from `num_labels` and the labels' dtype. */
export function inferProblemType(problemType: unknown, numLabels: number, labels: Tensor): ProblemType {
  if (problemType === "regression" || problemType === "single_label_classification") return problemType;
  if (problemType === "multi_label_classification") return problemType;
  if (problemType !== undefined && problemType !== null) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `classification loss: config 'problem_type' must be regression, single_label_classification or multi_label_classification, got ${JSON.stringify(problemType)}`,
    );
  }
  if (numLabels === 1) return "regression";
  return labels.dtype.includes("int") ? "single_label_classification" : "multi_label_classification";
}

/** BCEWithLogits, mean: max(x, 0) − x·y + log(1 + exp(−|x|)) (the stable form PyTorch uses). */
export function bceWithLogits(logits: Tensor, targets: Tensor): Tensor {
  const y = targets.dtype === logits.dtype ? targets : to(targets, logits.dtype);
  return mean(add(sub(relu(logits), mul(logits, y)), log1p(exp(neg(abs(logits))))));
}

/** The loss of a sequence/image classifier: `logits` `[B, C]`, `labels` `[B]` or `[B, C]`. */
export function classificationLoss(logits: Tensor, labels: Tensor, numLabels: number, problemType: unknown): Tensor {
  const kind = inferProblemType(problemType, numLabels, labels);
  const x = logits.dtype === "float32" ? logits : to(logits, "float32");
  if (kind === "regression") {
    const y = labels.dtype === "float32" ? labels : to(labels, "float32");
    return numLabels === 1 ? mseLoss(squeeze(x), squeeze(y)) : mseLoss(x, y);
  }
  if (kind === "single_label_classification") {
    if (labels.dtype.includes("float")) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `classification loss: single-label 'labels' must be integer class ids, got ${labels.describe()}`,
      );
    }
    return crossEntropy(reshape(x, [-1, numLabels]), reshape(labels, [-1]));
  }
  return bceWithLogits(x, labels);
}

/** Per-token cross-entropy of `logits` `[B, T, C]` against `labels` `[B, T]` (−100 ignored). */
export function tokenClassificationLoss(logits: Tensor, labels: Tensor): Tensor {
  const C = logits.shape[logits.ndim - 1] as number;
  const x = logits.dtype === "float32" ? logits : to(logits, "float32");
  return crossEntropy(reshape(x, [-1, C]), reshape(labels, [-1]), { ignoreIndex: -100 });
}

/** What a head passes on from its base model's output. */
type BaseOutput = Pick<ClassifierOutput, "hiddenStates" | "attentions">;

/**
 * A sequence (or image) classifier's output: `logits` `[B, C]`, the {@link classificationLoss}
 * when `labels` are given, and the base model's hidden states and attentions.
 */
export function classifierOutput(
  logits: Tensor,
  labels: Tensor | null | undefined,
  numLabels: number,
  problemType: unknown,
  base: BaseOutput,
): ClassifierOutput {
  return {
    logits,
    loss: labels ? classificationLoss(logits, labels, numLabels, problemType) : undefined,
    hiddenStates: base.hiddenStates,
    attentions: base.attentions,
  };
}

/**
 * A per-token head's output (token classification, masked LM): `logits` `[B, T, C]`, the
 * {@link tokenClassificationLoss} when `labels` are given, and the base model's hidden states
 * and attentions.
 */
export function tokenClassifierOutput(
  logits: Tensor,
  labels: Tensor | null | undefined,
  base: BaseOutput,
): ClassifierOutput {
  return {
    logits,
    loss: labels ? tokenClassificationLoss(logits, labels) : undefined,
    hiddenStates: base.hiddenStates,
    attentions: base.attentions,
  };
}
