/** Helpers the encoder pipelines share: tokenising to tensors, softmax/sigmoid, top-k. */
import { noGrad, scope, type Tensor, tensor } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import type { ClassifierOutput, LabeledTextInput } from "../modeling/encoder-outputs.ts";
import type { PreTrainedTokenizer } from "../tokenizers/tokenizer.ts";
import type { BatchEncoding } from "../tokenizers/types.ts";

/** A model with a classifier-style `forward` (BERT-like heads). */
export interface TextClassifierModel {
  forward(input: LabeledTextInput): ClassifierOutput;
  config: { get(key: string): unknown };
}

/** Row-wise softmax of `x` in float64. */
export function softmax(x: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) max = Math.max(max, x[i] as number);
  const e = Array.from(x, (v) => Math.exp(v - max));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

/** Elementwise logistic sigmoid. */
export function sigmoid(x: ArrayLike<number>): number[] {
  return Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
}

/** Indices of the `k` largest values, largest first (ties: lower index first). */
export function topIndices(x: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: x.length }, (_, i) => i)
    .sort((a, b) => (x[b] as number) - (x[a] as number) || a - b)
    .slice(0, k);
}

/** Tokenises a batch (padded, truncated to the model's limit) into model tensors. */
export function encodeBatch(
  tokenizer: PreTrainedTokenizer,
  texts: string[],
  opts: { textPair?: string[]; offsets?: boolean } = {},
): { enc: BatchEncoding; input: LabeledTextInput } {
  const enc = tokenizer.encodeBatch(texts, {
    textPair: opts.textPair,
    padding: true,
    truncation: true,
    returnOffsetsMapping: opts.offsets,
    returnSpecialTokensMask: true,
    returnTokenTypeIds: true,
  });
  const input: LabeledTextInput = {
    inputIds: tensor(enc.inputIds, { dtype: "int64" }),
    attentionMask: enc.attentionMask ? tensor(enc.attentionMask, { dtype: "int64" }) : null,
    tokenTypeIds: enc.tokenTypeIds ? tensor(enc.tokenTypeIds, { dtype: "int64" }) : null,
  };
  return { enc, input };
}

/** Runs `fn` without a tape and frees its intermediates; returns the logits' values and shape. */
export function logitsOf(fn: () => Tensor): { data: Float32Array; shape: number[] } {
  return scope(() =>
    noGrad(() => {
      const t = fn();
      return { data: Float32Array.from(t.dataSync() as Float32Array), shape: [...t.shape] };
    }),
  );
}

/** Checks a pipeline's text input; returns the list and whether one string was given. */
export function textList(task: string, input: string | string[]): { texts: string[]; single: boolean } {
  const single = typeof input === "string";
  const texts = single ? [input] : input;
  if (!Array.isArray(texts) || texts.length === 0 || texts.some((t) => typeof t !== "string")) {
    throw fail(ErrorCodes.PIPELINE_BAD_INPUT, `${task}: input must be a string or a non-empty list of strings`);
  }
  return { texts, single };
}
