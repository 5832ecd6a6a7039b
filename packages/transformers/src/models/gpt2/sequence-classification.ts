/**
 * `GPT2ForSequenceClassification`: GPT-2 with a bias-free `score` head on the last non-padding
 * token of each row (Python's class of the same name, with its module names, so checkpoints and
 * PEFT `SEQ_CLS` adapters — which save `score` — load in both directions).
 */
import { Linear } from "@hearth/tensor";
import { numLabels } from "../../configuration/labels.ts";
import type { ClassifierOutput } from "../../modeling/encoder-outputs.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import {
  type SequenceClassificationInput,
  sequenceClassifierOutput,
} from "../../modeling/sequence-classification-head.ts";
import { GPT2Config } from "./config.ts";
import { GPT2Model } from "./modeling.ts";

/**
 * @example
 * const clf = new GPT2ForSequenceClassification(new GPT2Config({ n_layer: 2, n_embd: 64, n_head: 4, num_labels: 2, pad_token_id: 0 }));
 * const { logits, loss } = clf.forward({ inputIds, labels }); // logits [B, 2]
 */
export class GPT2ForSequenceClassification extends PreTrainedModel {
  static override readonly configClass = GPT2Config;
  static override readonly baseModelPrefix: string = "transformer";
  static override readonly ignoreUnexpected: readonly RegExp[] = GPT2Model.ignoreUnexpected;
  declare readonly config: GPT2Config;
  readonly transformer: GPT2Model;
  readonly score: Linear;
  readonly numLabels: number;

  constructor(config: GPT2Config) {
    super(config);
    this.numLabels = numLabels(config);
    this.transformer = this.registerModule("transformer", new GPT2Model(config));
    this.score = this.registerModule("score", new Linear(config.n_embd, this.numLabels, { bias: false }));
    this.postInit();
  }

  forward(input: SequenceClassificationInput): ClassifierOutput {
    return sequenceClassifierOutput(
      this.transformer.forward(input),
      this.score,
      input,
      this.config,
      "GPT2ForSequenceClassification.forward",
    );
  }
}
