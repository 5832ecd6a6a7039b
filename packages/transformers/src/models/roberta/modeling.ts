/**
 * RoBERTa (Liu et al., 2019): BERT's encoder with positions counted from `pad_token_id + 1`
 * over the non-padding tokens, and its own heads (`lm_head` with GELU, a two-layer
 * classification head on `<s>`). Every encoder module is BERT's.
 */
import {
  add,
  cumsum,
  Dropout,
  type Embedding,
  gelu,
  LayerNorm,
  Linear,
  Module,
  mul,
  ne,
  type Tensor,
  tanh,
  to,
  zeros,
} from "@hearth/tensor";
import { labelOf, numLabels } from "../../configuration/labels.ts";
import { classifierOutput, tokenClassifierOutput } from "../../modeling/classification-loss.ts";
import type { ClassifierOutput, LabeledTextInput } from "../../modeling/encoder-outputs.ts";
import { TiedLinear } from "../../modeling/layers.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import type { BertConfig } from "../bert/config.ts";
import { BertEmbeddings, BertModel, firstToken } from "../bert/modeling.ts";
import { RobertaConfig } from "./config.ts";
import { ROBERTA_IGNORED_KEYS, ROBERTA_MLM_TIED_WEIGHTS } from "./weights.ts";

/** Python's `create_position_ids_from_input_ids`: pad + cumsum(ids ≠ pad), and pad at padding. */
export function robertaPositions(inputIds: Tensor, padId: number): Tensor {
  const notPad = to(ne(inputIds, padId), "int64");
  return add(mul(cumsum(notPad, 1), notPad), padId);
}

/** BERT's embeddings with RoBERTa's positions. */
export class RobertaEmbeddings extends BertEmbeddings {
  constructor(
    readonly padId: number,
    config: BertConfig,
  ) {
    super(config);
  }

  override positions(inputIds: Tensor): Tensor {
    return robertaPositions(inputIds, this.padId);
  }
}

/**
 * The bare RoBERTa encoder.
 *
 * @example
 * const roberta = await RobertaModel.fromPretrained("path/to/roberta-base");
 */
export class RobertaModel extends BertModel {
  static override readonly configClass = RobertaConfig;
  static override readonly baseModelPrefix: string = "roberta";

  protected override makeEmbeddings(config: BertConfig): BertEmbeddings {
    return new RobertaEmbeddings(config.pad_token_id ?? 1, config);
  }
}

/** `lm_head`: dense → GELU → LayerNorm → vocabulary projection tied to the word embeddings, plus a bias. */
export class RobertaLMHead extends Module {
  readonly dense: Linear;
  readonly layer_norm: LayerNorm;
  decoder: TiedLinear;
  readonly bias: Tensor;

  constructor(config: BertConfig, wordEmbeddings: Embedding) {
    super();
    this.dense = this.registerModule("dense", new Linear(config.hidden_size, config.hidden_size));
    this.layer_norm = this.registerModule(
      "layer_norm",
      new LayerNorm([config.hidden_size], { eps: config.layer_norm_eps }),
    );
    this.decoder = this.registerModule("decoder", new TiedLinear(wordEmbeddings));
    this.bias = this.registerParameter("bias", zeros([config.vocab_size]));
  }

  forward(h: Tensor): Tensor {
    return add(this.decoder.forward(this.layer_norm.forward(gelu(this.dense.forward(h)))), this.bias);
  }
}

/** RoBERTa with its masked-LM head. */
export class RobertaForMaskedLM extends PreTrainedModel {
  static override readonly configClass = RobertaConfig;
  static override readonly baseModelPrefix: string = "roberta";
  static override readonly ignoreUnexpected: readonly RegExp[] = ROBERTA_IGNORED_KEYS;
  declare readonly config: RobertaConfig;
  readonly roberta: RobertaModel;
  readonly lm_head: RobertaLMHead;

  constructor(config: RobertaConfig) {
    super(config);
    this.roberta = this.registerModule("roberta", new RobertaModel(config, { addPoolingLayer: false }));
    this.lm_head = this.registerModule("lm_head", new RobertaLMHead(config, this.roberta.embeddings.word_embeddings));
  }

  override tiedWeights(): Record<string, string> {
    return { ...ROBERTA_MLM_TIED_WEIGHTS };
  }

  override tieWeights(): void {
    this.lm_head.decoder = this.lm_head.registerModule(
      "decoder",
      new TiedLinear(this.roberta.embeddings.word_embeddings),
    );
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.roberta.forward(input);
    const logits = this.lm_head.forward(out.lastHiddenState);
    return tokenClassifierOutput(logits, input.labels, out);
  }
}

/** `classifier`: dropout → dense → tanh → dropout → out_proj on the `<s>` token. */
export class RobertaClassificationHead extends Module {
  readonly dense: Linear;
  readonly dropout: Dropout;
  readonly out_proj: Linear;

  constructor(config: BertConfig, labels: number) {
    super();
    this.dense = this.registerModule("dense", new Linear(config.hidden_size, config.hidden_size));
    this.dropout = this.registerModule("dropout", new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.out_proj = this.registerModule("out_proj", new Linear(config.hidden_size, labels));
  }

  forward(h: Tensor): Tensor {
    const x = tanh(this.dense.forward(this.dropout.forward(firstToken(h))));
    return this.out_proj.forward(this.dropout.forward(x));
  }
}

/** RoBERTa with its sequence-classification head (loss by `problem_type`). */
export class RobertaForSequenceClassification extends PreTrainedModel {
  static override readonly configClass = RobertaConfig;
  static override readonly baseModelPrefix: string = "roberta";
  static override readonly ignoreUnexpected: readonly RegExp[] = ROBERTA_IGNORED_KEYS;
  declare readonly config: RobertaConfig;
  readonly roberta: RobertaModel;
  readonly classifier: RobertaClassificationHead;
  readonly numLabels: number;

  constructor(config: RobertaConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.roberta = this.registerModule("roberta", new RobertaModel(config, { addPoolingLayer: false }));
    this.classifier = this.registerModule("classifier", new RobertaClassificationHead(config, this.numLabels));
  }

  /** The name of class `i`. */
  label(i: number): string {
    return labelOf(this.config, i);
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.roberta.forward(input);
    const logits = this.classifier.forward(out.lastHiddenState);
    return classifierOutput(logits, input.labels, this.numLabels, this.config.problem_type, out);
  }
}

/** RoBERTa with a linear classifier on every token. */
export class RobertaForTokenClassification extends PreTrainedModel {
  static override readonly configClass = RobertaConfig;
  static override readonly baseModelPrefix: string = "roberta";
  static override readonly ignoreUnexpected: readonly RegExp[] = ROBERTA_IGNORED_KEYS;
  declare readonly config: RobertaConfig;
  readonly roberta: RobertaModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(config: RobertaConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.roberta = this.registerModule("roberta", new RobertaModel(config, { addPoolingLayer: false }));
    this.dropout = this.registerModule("dropout", new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.classifier = this.registerModule("classifier", new Linear(config.hidden_size, this.numLabels));
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.roberta.forward(input);
    const logits = this.classifier.forward(this.dropout.forward(out.lastHiddenState));
    return tokenClassifierOutput(logits, input.labels, out);
  }
}
