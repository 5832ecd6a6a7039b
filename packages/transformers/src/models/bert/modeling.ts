/**
 * BERT (Devlin et al., 2019): token + position + segment embeddings, post-norm encoder layers
 * with exact GELU, a tanh pooler over the first token, and the task heads
 * `BertForMaskedLM`, `BertForSequenceClassification` and `BertForTokenClassification`.
 * Module and parameter names are Python's, so `stateDict()` keys are checkpoint keys.
 * RoBERTa reuses every module here with its own embeddings' positions.
 *
 * Shapes: B batch, T positions, E hidden_size, H heads, D = E / H, I intermediate_size.
 */
import {
  add,
  arange,
  Dropout,
  Embedding,
  expand,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  narrow,
  reshape,
  squeeze,
  type Tensor,
  tanh,
  zeros,
} from "@hearth/tensor";
import { labelOf, numLabels } from "../../configuration/labels.ts";
import { ErrorCodes, fail } from "../../errors.ts";
import { activation } from "../../modeling/activations.ts";
import { classifierOutput, tokenClassifierOutput } from "../../modeling/classification-loss.ts";
import {
  checkHeads,
  type LayerOutput,
  multiHeadSelfAttention,
  runEncoderLayers,
} from "../../modeling/encoder-layers.ts";
import type {
  ClassifierOutput,
  EncoderOutput,
  LabeledTextInput,
  TextEncoderInput,
} from "../../modeling/encoder-outputs.ts";
import { TiedLinear } from "../../modeling/layers.ts";
import { paddingMask } from "../../modeling/padding-mask.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import { BertConfig } from "./config.ts";
import { BERT_IGNORED_KEYS, BERT_MLM_IGNORED_KEYS, BERT_MLM_TIED_WEIGHTS, BERT_POOLER_KEYS } from "./weights.ts";

/** Checks `inputIds` and returns `[B, T]`. */
export function checkTextInput(where: string, input: TextEncoderInput, maxPositions: number): [number, number] {
  const ids = input?.inputIds;
  if (ids?.ndim !== 2 || ids.dtype.includes("float")) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `${where}: 'inputIds' must be an integer tensor [batch, length], got ${ids ? ids.describe() : String(ids)}`,
    );
  }
  const [B, T] = ids.shape as [number, number];
  for (const key of ["attentionMask", "tokenTypeIds", "positionIds"] as const) {
    const t = input[key];
    if (t && (t.ndim !== 2 || t.shape[0] !== B || t.shape[1] !== T)) {
      throw fail(ErrorCodes.MODEL_BAD_INPUT, `${where}: '${key}' must have shape [${B}, ${T}], got ${t.describe()}`);
    }
  }
  if (T > maxPositions) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `${where}: ${T} positions exceed max_position_embeddings ${maxPositions}; truncate the input`,
    );
  }
  return [B, T];
}

/** `h[:, 0]`: the first token's vector `[B, E]` of `[B, T, E]`. */
export function firstToken(h: Tensor): Tensor {
  return squeeze(narrow(h, 1, 0, 1), 1);
}

/** Word + position + token-type embeddings, then LayerNorm and dropout. */
export class BertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly token_type_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(config: BertConfig) {
    super();
    const E = config.hidden_size;
    this.word_embeddings = this.registerModule("word_embeddings", new Embedding(config.vocab_size, E));
    this.position_embeddings = this.registerModule(
      "position_embeddings",
      new Embedding(config.max_position_embeddings, E),
    );
    this.token_type_embeddings = this.registerModule("token_type_embeddings", new Embedding(config.type_vocab_size, E));
    this.LayerNorm = this.registerModule("LayerNorm", new LayerNorm([E], { eps: config.layer_norm_eps }));
    this.dropout = this.registerModule("dropout", new Dropout(config.hidden_dropout_prob));
  }

  /** Positions when none are given: `0 .. T - 1` (RoBERTa overrides this). */
  positions(inputIds: Tensor): Tensor {
    const [B, T] = inputIds.shape as [number, number];
    return expand(reshape(arange(0, T, 1, { dtype: "int64" }), [1, T]), [B, T]);
  }

  forward(inputIds: Tensor, tokenTypeIds?: Tensor | null, positionIds?: Tensor | null): Tensor {
    const [B, T] = inputIds.shape as [number, number];
    const types = tokenTypeIds ?? zeros([B, T], { dtype: "int64" });
    let h = add(this.word_embeddings.forward(inputIds), this.token_type_embeddings.forward(types));
    h = add(h, this.position_embeddings.forward(positionIds ?? this.positions(inputIds)));
    return this.dropout.forward(this.LayerNorm.forward(h));
  }
}

/** Multi-head self-attention: separate query/key/value projections. */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  readonly heads: number;

  constructor(config: BertConfig) {
    super();
    const E = config.hidden_size;
    checkHeads("BertSelfAttention", E, config.num_attention_heads);
    this.heads = config.num_attention_heads;
    this.query = this.registerModule("query", new Linear(E, E));
    this.key = this.registerModule("key", new Linear(E, E));
    this.value = this.registerModule("value", new Linear(E, E));
    this.dropout = this.registerModule("dropout", new Dropout(config.attention_probs_dropout_prob));
  }

  /** `x` `[B, T, E]` and the additive mask `[B|1, 1, 1, T]` → `[B, T, E]`. */
  forward(x: Tensor, mask: Tensor, outputAttentions = false): LayerOutput {
    return multiHeadSelfAttention(x, this, this.heads, mask, {
      outputAttentions,
      dropout: this.training ? (p) => this.dropout.forward(p) : undefined,
    });
  }
}

/** Dense → dropout → residual LayerNorm (the post-norm step after attention and after the MLP). */
export class BertResidualOutput extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(config: BertConfig, inFeatures: number) {
    super();
    this.dense = this.registerModule("dense", new Linear(inFeatures, config.hidden_size));
    this.LayerNorm = this.registerModule(
      "LayerNorm",
      new LayerNorm([config.hidden_size], { eps: config.layer_norm_eps }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.hidden_dropout_prob));
  }

  forward(x: Tensor, residual: Tensor): Tensor {
    return this.LayerNorm.forward(add(this.dropout.forward(this.dense.forward(x)), residual));
  }
}

/** Self-attention plus its output projection (`attention.self`, `attention.output`). */
export class BertAttention extends Module {
  readonly self: BertSelfAttention;
  readonly output: BertResidualOutput;

  constructor(config: BertConfig) {
    super();
    this.self = this.registerModule("self", new BertSelfAttention(config));
    this.output = this.registerModule("output", new BertResidualOutput(config, config.hidden_size));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions = false): LayerOutput {
    const a = this.self.forward(x, mask, outputAttentions);
    return { output: this.output.forward(a.output, x), probs: a.probs };
  }
}

/** The MLP's first half: dense E → I and the activation (BERT's and ViT's `intermediate`). */
export class BertIntermediate extends Module {
  readonly dense: Linear;
  readonly act: (x: Tensor) => Tensor;

  constructor(config: Pick<BertConfig, "hidden_size" | "intermediate_size" | "hidden_act">) {
    super();
    this.dense = this.registerModule("dense", new Linear(config.hidden_size, config.intermediate_size));
    this.act = activation(config.hidden_act, "intermediate (hidden_act)");
  }

  forward(x: Tensor): Tensor {
    return this.act(this.dense.forward(x));
  }
}

/** One encoder layer. */
export class BertLayer extends Module {
  readonly attention: BertAttention;
  readonly intermediate: BertIntermediate;
  readonly output: BertResidualOutput;

  constructor(config: BertConfig) {
    super();
    this.attention = this.registerModule("attention", new BertAttention(config));
    this.intermediate = this.registerModule("intermediate", new BertIntermediate(config));
    this.output = this.registerModule("output", new BertResidualOutput(config, config.intermediate_size));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions = false): LayerOutput {
    const a = this.attention.forward(x, mask, outputAttentions);
    return { output: this.output.forward(this.intermediate.forward(a.output), a.output), probs: a.probs };
  }
}

/** The stack of layers (`encoder.layer.N`). */
export class BertEncoder extends Module {
  readonly layer: ModuleList<BertLayer>;

  constructor(config: BertConfig) {
    super();
    this.layer = this.registerModule(
      "layer",
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new BertLayer(config))),
    );
  }

  /** Runs every layer; hidden states are `[embeddings, layer 1, …, layer N]`. */
  forward(h: Tensor, mask: Tensor, opts: { outputHiddenStates?: boolean; outputAttentions?: boolean }): EncoderOutput {
    return runEncoderLayers(this.layer, h, mask, opts);
  }
}

/** tanh(dense(first token)): BERT's and ViT's `pooler`. */
export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(config: Pick<BertConfig, "hidden_size">) {
    super();
    this.dense = this.registerModule("dense", new Linear(config.hidden_size, config.hidden_size));
  }

  forward(h: Tensor): Tensor {
    return tanh(this.dense.forward(firstToken(h)));
  }
}

/**
 * The bare BERT encoder: `lastHiddenState`, and `poolerOutput` unless built without the pooler
 * (as the masked-LM and token-classification heads build it).
 *
 * @example
 * const bert = await BertModel.fromPretrained("fixtures/hf-tiny/models/bert");
 * const { lastHiddenState, poolerOutput } = bert.forward({ inputIds, attentionMask });
 */
export class BertModel extends PreTrainedModel {
  static override readonly configClass = BertConfig;
  static override readonly baseModelPrefix: string = "bert";
  static override readonly ignoreUnexpected: readonly RegExp[] = BERT_IGNORED_KEYS;
  declare readonly config: BertConfig;
  readonly embeddings: BertEmbeddings;
  readonly encoder: BertEncoder;
  readonly pooler: BertPooler | null;

  constructor(config: BertConfig, options: { addPoolingLayer?: boolean } = {}) {
    super(config);
    if ((config.position_embedding_type ?? "absolute") !== "absolute") {
      throw fail(
        ErrorCodes.MODEL_UNSUPPORTED,
        `${new.target.name}: position_embedding_type '${config.position_embedding_type}' is not supported; only "absolute"`,
      );
    }
    this.embeddings = this.registerModule("embeddings", this.makeEmbeddings(config));
    this.encoder = this.registerModule("encoder", new BertEncoder(config));
    this.pooler = options.addPoolingLayer === false ? null : this.registerModule("pooler", new BertPooler(config));
  }

  /** The embeddings module (RoBERTa gives its own). */
  protected makeEmbeddings(config: BertConfig): BertEmbeddings {
    return new BertEmbeddings(config);
  }

  forward(input: TextEncoderInput): EncoderOutput {
    checkTextInput(`${this.constructor.name}.forward`, input, this.config.max_position_embeddings);
    const h = this.embeddings.forward(input.inputIds, input.tokenTypeIds, input.positionIds);
    const out = this.encoder.forward(h, paddingMask(input.attentionMask, h.dtype), input);
    return this.pooler ? { ...out, poolerOutput: this.pooler.forward(out.lastHiddenState) } : out;
  }
}

/** Dense → activation → LayerNorm, then the vocabulary projection tied to the word embeddings plus a bias. */
export class BertLMPredictionHead extends Module {
  readonly transform: BertPredictionHeadTransform;
  decoder: TiedLinear;
  readonly bias: Tensor;

  constructor(config: BertConfig, wordEmbeddings: Embedding) {
    super();
    this.transform = this.registerModule("transform", new BertPredictionHeadTransform(config));
    this.decoder = this.registerModule("decoder", new TiedLinear(wordEmbeddings));
    this.bias = this.registerParameter("bias", zeros([config.vocab_size]));
  }

  forward(h: Tensor): Tensor {
    return add(this.decoder.forward(this.transform.forward(h)), this.bias);
  }
}

/** `cls.predictions.transform`: dense, activation, LayerNorm. */
export class BertPredictionHeadTransform extends Module {
  readonly dense: Linear;
  readonly LayerNorm: LayerNorm;
  readonly act: (x: Tensor) => Tensor;

  constructor(config: BertConfig) {
    super();
    this.dense = this.registerModule("dense", new Linear(config.hidden_size, config.hidden_size));
    this.LayerNorm = this.registerModule(
      "LayerNorm",
      new LayerNorm([config.hidden_size], { eps: config.layer_norm_eps }),
    );
    this.act = activation(config.hidden_act, "BertPredictionHeadTransform");
  }

  forward(h: Tensor): Tensor {
    return this.LayerNorm.forward(this.act(this.dense.forward(h)));
  }
}

/** `cls`: holds the prediction head as `cls.predictions`. */
export class BertOnlyMLMHead extends Module {
  predictions: BertLMPredictionHead;

  constructor(config: BertConfig, wordEmbeddings: Embedding) {
    super();
    this.predictions = this.registerModule("predictions", new BertLMPredictionHead(config, wordEmbeddings));
  }
}

/**
 * BERT with its masked-language-modelling head; `labels` `[B, T]` (−100 ignored) give the loss.
 *
 * @example
 * const { logits } = mlm.forward({ inputIds }); // [B, T, vocab]
 */
export class BertForMaskedLM extends PreTrainedModel {
  static override readonly configClass = BertConfig;
  static override readonly baseModelPrefix: string = "bert";
  static override readonly ignoreUnexpected: readonly RegExp[] = [
    ...BERT_IGNORED_KEYS,
    ...BERT_MLM_IGNORED_KEYS,
    ...BERT_POOLER_KEYS,
  ];
  declare readonly config: BertConfig;
  readonly bert: BertModel;
  readonly cls: BertOnlyMLMHead;

  constructor(config: BertConfig) {
    super(config);
    this.bert = this.registerModule("bert", new BertModel(config, { addPoolingLayer: false }));
    this.cls = this.registerModule("cls", new BertOnlyMLMHead(config, this.bert.embeddings.word_embeddings));
  }

  override tiedWeights(): Record<string, string> {
    return { ...BERT_MLM_TIED_WEIGHTS };
  }

  override tieWeights(): void {
    const head = this.cls.predictions;
    head.decoder = head.registerModule("decoder", new TiedLinear(this.bert.embeddings.word_embeddings));
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.bert.forward(input);
    const logits = this.cls.predictions.forward(out.lastHiddenState);
    return tokenClassifierOutput(logits, input.labels, out);
  }
}

/**
 * BERT with a linear classifier on the pooled first token. With `labels` the loss follows
 * `problem_type` (see {@link classificationLoss}).
 *
 * @example
 * const { logits, loss } = clf.forward({ inputIds, attentionMask, labels });
 */
export class BertForSequenceClassification extends PreTrainedModel {
  static override readonly configClass = BertConfig;
  static override readonly baseModelPrefix: string = "bert";
  static override readonly ignoreUnexpected: readonly RegExp[] = BERT_IGNORED_KEYS;
  declare readonly config: BertConfig;
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(config: BertConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.bert = this.registerModule("bert", new BertModel(config));
    this.dropout = this.registerModule("dropout", new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.classifier = this.registerModule("classifier", new Linear(config.hidden_size, this.numLabels));
  }

  /** The name of class `i`. */
  label(i: number): string {
    return labelOf(this.config, i);
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.bert.forward(input);
    const logits = this.classifier.forward(this.dropout.forward(out.poolerOutput as Tensor));
    return classifierOutput(logits, input.labels, this.numLabels, this.config.problem_type, out);
  }
}

/**
 * BERT with a linear classifier on every token (NER, POS); `labels` `[B, T]` (−100 ignored).
 *
 * @example
 * const { logits } = ner.forward({ inputIds }); // [B, T, num_labels]
 */
export class BertForTokenClassification extends PreTrainedModel {
  static override readonly configClass = BertConfig;
  static override readonly baseModelPrefix: string = "bert";
  static override readonly ignoreUnexpected: readonly RegExp[] = [...BERT_IGNORED_KEYS, ...BERT_POOLER_KEYS];
  declare readonly config: BertConfig;
  readonly bert: BertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(config: BertConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.bert = this.registerModule("bert", new BertModel(config, { addPoolingLayer: false }));
    this.dropout = this.registerModule("dropout", new Dropout(config.classifier_dropout ?? config.hidden_dropout_prob));
    this.classifier = this.registerModule("classifier", new Linear(config.hidden_size, this.numLabels));
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.bert.forward(input);
    const logits = this.classifier.forward(this.dropout.forward(out.lastHiddenState));
    return tokenClassifierOutput(logits, input.labels, out);
  }
}
