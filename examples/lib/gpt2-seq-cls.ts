/**
 * GPT-2 with a sequence-classification head, as Python's `GPT2ForSequenceClassification`: the
 * `score` projection (no bias) of the hidden state at each row's last real token, and
 * cross-entropy against `labels`. (The models package has no such head yet; this is the
 * example's own, with Python's module names so PEFT's `SEQ_CLS` adapters save `score`.)
 */
import { crossEntropy, indexSelect, Linear, reshape, type Tensor, tensor } from "@hearth/tensor";
import { GPT2Config, GPT2Model, PreTrainedModel } from "@hearth/transformers";

export class GPT2ForSequenceClassification extends PreTrainedModel {
  static override readonly configClass = GPT2Config;
  static override readonly baseModelPrefix: string = "transformer";
  declare readonly config: GPT2Config;
  readonly transformer: GPT2Model;
  readonly score: Linear;

  constructor(config: GPT2Config) {
    super(config);
    const numLabels = ((config as unknown as Record<string, unknown>).num_labels as number | undefined) ?? 2;
    this.transformer = this.registerModule("transformer", new GPT2Model(config));
    this.score = this.registerModule("score", new Linear(config.n_embd, numLabels, { bias: false }));
  }

  forward(input: { inputIds: Tensor; attentionMask?: Tensor; labels?: Tensor }): { logits: Tensor; loss?: Tensor } {
    const [B, T] = input.inputIds.shape as [number, number];
    const h = this.transformer.forward({
      inputIds: input.inputIds,
      attentionMask: input.attentionMask,
    }).lastHiddenState;
    const E = h.shape[2] as number;
    const mask = input.attentionMask ? (input.attentionMask.tolistSync() as number[][]) : null;
    const last = Array.from(
      { length: B },
      (_, b) => b * T + (mask ? (mask[b] as number[]).reduce((s, v) => s + v, 0) - 1 : T - 1),
    );
    const pooled = indexSelect(reshape(h, [B * T, E]), 0, tensor(last, { dtype: "int64" }));
    const logits = this.score.forward(pooled);
    return { logits, loss: input.labels ? crossEntropy(logits, input.labels) : undefined };
  }
}
