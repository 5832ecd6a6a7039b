/**
 * `LlamaForSequenceClassification`: the Llama decoder with a bias-free `score` head on the last
 * non-padding token of each row (Python's class of the same name and module names).
 */
import { Linear } from "@hearth/tensor";
import { numLabels } from "../../configuration/labels.ts";
import type { ClassifierOutput } from "../../modeling/encoder-outputs.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import {
  type SequenceClassificationInput,
  sequenceClassifierOutput,
} from "../../modeling/sequence-classification-head.ts";
import { LlamaConfig } from "./config.ts";
import { LlamaModel } from "./modeling.ts";

/**
 * @example
 * const clf = new LlamaForSequenceClassification(new LlamaConfig({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_labels: 3, pad_token_id: 0 }));
 * const { logits } = clf.forward({ inputIds }); // [B, 3]
 */
export class LlamaForSequenceClassification extends PreTrainedModel {
  static override readonly configClass: typeof LlamaConfig = LlamaConfig;
  static override readonly baseModelPrefix: string = "model";
  declare readonly config: LlamaConfig;
  readonly model: LlamaModel;
  readonly score: Linear;
  readonly numLabels: number;

  constructor(config: LlamaConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.model = this.registerModule("model", new LlamaModel(config, LlamaModel.spec(config)));
    this.score = this.registerModule("score", new Linear(config.hidden_size, this.numLabels, { bias: false }));
    this.postInit();
  }

  forward(input: SequenceClassificationInput): ClassifierOutput {
    return sequenceClassifierOutput(
      this.model.forward(input),
      this.score,
      input,
      this.config,
      "LlamaForSequenceClassification.forward",
    );
  }
}
