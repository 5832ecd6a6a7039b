/**
 * What decoder-only sequence classifiers (GPT-2, Llama, …) do after their base model, as
 * Python's `*ForSequenceClassification`: project with `score` and keep, for each row, the
 * logits of its last token that is not `pad_token_id` (the rightmost one, so left and right
 * padding both work); with `labels`, the loss `problem_type` chooses.
 */
import { indexSelect, reshape, type Tensor, tensor } from "@hearth/tensor";
import { numLabels as configNumLabels } from "../configuration/labels.ts";
import type { PretrainedConfig } from "../configuration/pretrained-config.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { classifierOutput } from "./classification-loss.ts";
import type { ClassifierOutput } from "./encoder-outputs.ts";
import type { DecoderInput, DecoderOutput } from "./outputs.ts";

/** A decoder classifier's input: the decoder's plus optional labels. */
export interface SequenceClassificationInput extends DecoderInput {
  /** `[B]` class ids, `[B]` floats (regression, one label) or `[B, C]` floats (multi-label). */
  labels?: Tensor | null;
}

/**
 * The position each row is pooled at: its rightmost token that is not `padTokenId`, or the
 * last position when there is no pad token (then only a batch of one is unambiguous, and
 * Python refuses larger batches; so does this). A row of nothing but padding pools at 0.
 */
export function lastNonPadPositions(inputIds: Tensor, padTokenId: number | null, where: string): number[] {
  const [B, T] = inputIds.shape as [number, number];
  if (padTokenId === null || padTokenId === undefined) {
    if (B !== 1) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `${where}: cannot pool a batch of ${B} without a padding token; set config.pad_token_id`,
      );
    }
    return [T - 1];
  }
  const rows = inputIds.tolistSync() as number[][];
  return rows.map((r) => {
    for (let t = T - 1; t >= 0; t--) if (Number(r[t]) !== padTokenId) return t;
    return 0;
  });
}

/** Logits `[B, num_labels]` (and the loss) from the base model's output and the `score` head. */
export function sequenceClassifierOutput(
  out: DecoderOutput,
  score: { forward(x: Tensor): Tensor },
  input: SequenceClassificationInput,
  config: PretrainedConfig,
  where: string,
): ClassifierOutput {
  const h = out.lastHiddenState;
  const [B, T, E] = h.shape as [number, number, number];
  const last = lastNonPadPositions(input.inputIds, config.pad_token_id, where).map((t, b) => b * T + t);
  const pooled = indexSelect(reshape(h, [B * T, E]), 0, tensor(last, { dtype: "int64" }));
  const logits = score.forward(pooled);
  const n = configNumLabels(config);
  return classifierOutput(logits, input.labels, n, config.get("problem_type"), out);
}
