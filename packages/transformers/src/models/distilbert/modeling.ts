/**
 * DistilBERT (Sanh et al., 2019): BERT's post-norm encoder, distilled — no token types, no
 * pooler, six layers by default — with its own module names (`q_lin`, `sa_layer_norm`,
 * `ffn.lin1`, …) and heads (`vocab_transform`/`vocab_projector`, `pre_classifier`).
 *
 * Shapes: B batch, T positions, E dim, H n_heads, I hidden_dim.
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
  relu,
  reshape,
  type Tensor,
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
import { checkTextInput, firstToken } from "../bert/modeling.ts";
import { DistilBertConfig } from "./config.ts";
import { DISTILBERT_MLM_TIED_WEIGHTS } from "./weights.ts";

/** Word + position embeddings, LayerNorm (eps 1e-12), dropout. */
export class DistilBertEmbeddings extends Module {
  readonly word_embeddings: Embedding;
  readonly position_embeddings: Embedding;
  readonly LayerNorm: LayerNorm;
  readonly dropout: Dropout;

  constructor(config: DistilBertConfig) {
    super();
    if (config.sinusoidal_pos_embds) {
      throw fail(ErrorCodes.MODEL_UNSUPPORTED, "DistilBertModel: sinusoidal_pos_embds is not supported");
    }
    this.word_embeddings = this.registerModule("word_embeddings", new Embedding(config.vocab_size, config.dim));
    this.position_embeddings = this.registerModule(
      "position_embeddings",
      new Embedding(config.max_position_embeddings, config.dim),
    );
    this.LayerNorm = this.registerModule("LayerNorm", new LayerNorm([config.dim], { eps: 1e-12 }));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
  }

  forward(inputIds: Tensor, positionIds?: Tensor | null): Tensor {
    const [B, T] = inputIds.shape as [number, number];
    const pos = positionIds ?? expand(reshape(arange(0, T, 1, { dtype: "int64" }), [1, T]), [B, T]);
    const h = add(this.word_embeddings.forward(inputIds), this.position_embeddings.forward(pos));
    return this.dropout.forward(this.LayerNorm.forward(h));
  }
}

/** Multi-head self-attention (`q_lin`, `k_lin`, `v_lin`, `out_lin`). */
export class MultiHeadSelfAttention extends Module {
  readonly q_lin: Linear;
  readonly k_lin: Linear;
  readonly v_lin: Linear;
  readonly out_lin: Linear;
  readonly dropout: Dropout;
  readonly heads: number;

  constructor(config: DistilBertConfig) {
    super();
    const E = config.dim;
    this.heads = config.n_heads;
    checkHeads("MultiHeadSelfAttention", E, this.heads, ["dim", "n_heads"]);
    this.q_lin = this.registerModule("q_lin", new Linear(E, E));
    this.k_lin = this.registerModule("k_lin", new Linear(E, E));
    this.v_lin = this.registerModule("v_lin", new Linear(E, E));
    this.out_lin = this.registerModule("out_lin", new Linear(E, E));
    this.dropout = this.registerModule("dropout", new Dropout(config.attention_dropout));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions = false): LayerOutput {
    const a = multiHeadSelfAttention(x, { query: this.q_lin, key: this.k_lin, value: this.v_lin }, this.heads, mask, {
      outputAttentions,
      dropout: this.training ? (p) => this.dropout.forward(p) : undefined,
    });
    return { output: this.out_lin.forward(a.output), probs: a.probs };
  }
}

/** `ffn`: lin1 → activation → lin2 → dropout. */
export class FFN extends Module {
  readonly lin1: Linear;
  readonly lin2: Linear;
  readonly dropout: Dropout;
  readonly act: (x: Tensor) => Tensor;

  constructor(config: DistilBertConfig) {
    super();
    this.lin1 = this.registerModule("lin1", new Linear(config.dim, config.hidden_dim));
    this.lin2 = this.registerModule("lin2", new Linear(config.hidden_dim, config.dim));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
    this.act = activation(config.activation, "DistilBERT FFN");
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.lin2.forward(this.act(this.lin1.forward(x))));
  }
}

/** One post-norm layer. */
export class TransformerBlock extends Module {
  readonly attention: MultiHeadSelfAttention;
  readonly sa_layer_norm: LayerNorm;
  readonly ffn: FFN;
  readonly output_layer_norm: LayerNorm;

  constructor(config: DistilBertConfig) {
    super();
    this.attention = this.registerModule("attention", new MultiHeadSelfAttention(config));
    this.sa_layer_norm = this.registerModule("sa_layer_norm", new LayerNorm([config.dim], { eps: 1e-12 }));
    this.ffn = this.registerModule("ffn", new FFN(config));
    this.output_layer_norm = this.registerModule("output_layer_norm", new LayerNorm([config.dim], { eps: 1e-12 }));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions = false): LayerOutput {
    const a = this.attention.forward(x, mask, outputAttentions);
    const h = this.sa_layer_norm.forward(add(a.output, x));
    return { output: this.output_layer_norm.forward(add(this.ffn.forward(h), h)), probs: a.probs };
  }
}

/** `transformer.layer.N`. */
export class DistilBertTransformer extends Module {
  readonly layer: ModuleList<TransformerBlock>;

  constructor(config: DistilBertConfig) {
    super();
    this.layer = this.registerModule(
      "layer",
      new ModuleList(Array.from({ length: config.n_layers }, () => new TransformerBlock(config))),
    );
  }
}

/**
 * The bare DistilBERT encoder.
 *
 * @example
 * const model = await DistilBertModel.fromPretrained("path/to/distilbert");
 * const { lastHiddenState } = model.forward({ inputIds, attentionMask });
 */
export class DistilBertModel extends PreTrainedModel {
  static override readonly configClass = DistilBertConfig;
  static override readonly baseModelPrefix: string = "distilbert";
  declare readonly config: DistilBertConfig;
  readonly embeddings: DistilBertEmbeddings;
  readonly transformer: DistilBertTransformer;

  constructor(config: DistilBertConfig) {
    super(config);
    this.embeddings = this.registerModule("embeddings", new DistilBertEmbeddings(config));
    this.transformer = this.registerModule("transformer", new DistilBertTransformer(config));
  }

  forward(input: TextEncoderInput): EncoderOutput {
    checkTextInput("DistilBertModel.forward", input, this.config.max_position_embeddings);
    const h = this.embeddings.forward(input.inputIds, input.positionIds);
    return runEncoderLayers(this.transformer.layer, h, paddingMask(input.attentionMask, h.dtype), input);
  }
}

/** `vocab_projector`: the word embeddings (tied) as the output matrix, plus its bias. */
export class TiedProjection extends Module {
  readonly tied: TiedLinear;
  readonly bias: Tensor;

  /** `bias` defaults to zeros; re-tying passes the current one. */
  constructor(embedding: Embedding, bias?: Tensor) {
    super();
    this.tied = new TiedLinear(embedding);
    this.registerParameter("weight", embedding.weight);
    this.bias = this.registerParameter("bias", bias ?? zeros([embedding.numEmbeddings]));
  }

  forward(x: Tensor): Tensor {
    return add(this.tied.forward(x), this.bias);
  }
}

/** DistilBERT with its masked-LM head. */
export class DistilBertForMaskedLM extends PreTrainedModel {
  static override readonly configClass = DistilBertConfig;
  static override readonly baseModelPrefix: string = "distilbert";
  declare readonly config: DistilBertConfig;
  readonly distilbert: DistilBertModel;
  readonly vocab_transform: Linear;
  readonly vocab_layer_norm: LayerNorm;
  vocab_projector: TiedProjection;
  readonly act: (x: Tensor) => Tensor;

  constructor(config: DistilBertConfig) {
    super(config);
    this.distilbert = this.registerModule("distilbert", new DistilBertModel(config));
    this.vocab_transform = this.registerModule("vocab_transform", new Linear(config.dim, config.dim));
    this.vocab_layer_norm = this.registerModule("vocab_layer_norm", new LayerNorm([config.dim], { eps: 1e-12 }));
    this.vocab_projector = this.registerModule(
      "vocab_projector",
      new TiedProjection(this.distilbert.embeddings.word_embeddings),
    );
    this.act = activation(config.activation, "DistilBertForMaskedLM");
  }

  override tiedWeights(): Record<string, string> {
    return { ...DISTILBERT_MLM_TIED_WEIGHTS };
  }

  override tieWeights(): void {
    this.vocab_projector = this.registerModule(
      "vocab_projector",
      new TiedProjection(this.distilbert.embeddings.word_embeddings, this.vocab_projector.bias),
    );
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.distilbert.forward(input);
    const h = this.vocab_layer_norm.forward(this.act(this.vocab_transform.forward(out.lastHiddenState)));
    const logits = this.vocab_projector.forward(h);
    return tokenClassifierOutput(logits, input.labels, out);
  }
}

/** DistilBERT with `pre_classifier` → ReLU → dropout → `classifier` on the first token. */
export class DistilBertForSequenceClassification extends PreTrainedModel {
  static override readonly configClass = DistilBertConfig;
  static override readonly baseModelPrefix: string = "distilbert";
  declare readonly config: DistilBertConfig;
  readonly distilbert: DistilBertModel;
  readonly pre_classifier: Linear;
  readonly classifier: Linear;
  readonly dropout: Dropout;
  readonly numLabels: number;

  constructor(config: DistilBertConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.distilbert = this.registerModule("distilbert", new DistilBertModel(config));
    this.pre_classifier = this.registerModule("pre_classifier", new Linear(config.dim, config.dim));
    this.classifier = this.registerModule("classifier", new Linear(config.dim, this.numLabels));
    this.dropout = this.registerModule("dropout", new Dropout(config.seq_classif_dropout));
  }

  /** The name of class `i`. */
  label(i: number): string {
    return labelOf(this.config, i);
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.distilbert.forward(input);
    const pooled = this.dropout.forward(relu(this.pre_classifier.forward(firstToken(out.lastHiddenState))));
    const logits = this.classifier.forward(pooled);
    return classifierOutput(logits, input.labels, this.numLabels, this.config.problem_type, out);
  }
}

/** DistilBERT with a linear classifier on every token. */
export class DistilBertForTokenClassification extends PreTrainedModel {
  static override readonly configClass = DistilBertConfig;
  static override readonly baseModelPrefix: string = "distilbert";
  declare readonly config: DistilBertConfig;
  readonly distilbert: DistilBertModel;
  readonly dropout: Dropout;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(config: DistilBertConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.distilbert = this.registerModule("distilbert", new DistilBertModel(config));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
    this.classifier = this.registerModule("classifier", new Linear(config.dim, this.numLabels));
  }

  forward(input: LabeledTextInput): ClassifierOutput {
    const out = this.distilbert.forward(input);
    const logits = this.classifier.forward(this.dropout.forward(out.lastHiddenState));
    return tokenClassifierOutput(logits, input.labels, out);
  }
}
