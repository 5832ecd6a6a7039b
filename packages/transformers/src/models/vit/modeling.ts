/**
 * ViT (Dosovitskiy et al., 2021): the image cut into patches by a strided convolution, a
 * learned class token and position embeddings (bicubically resized for other image sizes on
 * request), pre-norm encoder layers, a final LayerNorm, and `ViTForImageClassification`'s
 * linear head on the class token. Names are Python's, so `stateDict()` keys are checkpoint keys.
 *
 * Shapes: B batch, C channels, P patch size, N = (H/P)·(W/P) patches, E hidden_size, H heads.
 */
import {
  add,
  Conv2d,
  cat,
  Dropout,
  expand,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  randn,
  reshape,
  type Tensor,
  transpose,
  zeros,
} from "@hearth/tensor";
import { labelOf, numLabels } from "../../configuration/labels.ts";
import { ErrorCodes, fail } from "../../errors.ts";
import { classifierOutput } from "../../modeling/classification-loss.ts";
import {
  checkHeads,
  type LayerOutput,
  multiHeadSelfAttention,
  runEncoderLayers,
} from "../../modeling/encoder-layers.ts";
import type { ClassifierOutput, EncoderOutput } from "../../modeling/encoder-outputs.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import { BertIntermediate, BertPooler, firstToken } from "../bert/modeling.ts";
import { ViTConfig } from "./config.ts";
import { interpolatePositions } from "./position-interpolation.ts";
import { VIT_CLASSIFIER_IGNORED_KEYS } from "./weights.ts";

/** Arguments of ViT's `forward`. */
export interface ViTInput {
  /** `[B, C, H, W]` float pixels, as the image processor makes them. */
  pixelValues: Tensor;
  /** Resize the position embeddings when the image is not `image_size` (as Python's flag). */
  interpolatePosEncoding?: boolean;
  /** Class ids `[B]` (or floats for regression / multi-label), for the classification loss. */
  labels?: Tensor | null;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

/** The patch projection: a P×P convolution with stride P (`patch_embeddings.projection`). */
export class ViTPatchEmbeddings extends Module {
  readonly projection: Conv2d;

  constructor(readonly config: ViTConfig) {
    super();
    const P = config.patch_size;
    this.projection = this.registerModule(
      "projection",
      new Conv2d(config.num_channels, config.hidden_size, P, { stride: P }),
    );
  }

  /** `[B, C, H, W]` → `[B, N, E]`. */
  forward(pixels: Tensor, interpolate: boolean): Tensor {
    const [, C, H, W] = pixels.shape as [number, number, number, number];
    const size = this.config.image_size;
    if (C !== this.config.num_channels) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `ViTModel.forward: 'pixelValues' must have ${this.config.num_channels} channels, got ${pixels.describe()}`,
      );
    }
    if (!interpolate && (H !== size || W !== size)) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `ViTModel.forward: image size ${H}×${W} differs from the model's ${size}×${size}; resize it or pass interpolatePosEncoding: true`,
      );
    }
    const x = this.projection.forward(pixels); // [B, E, H/P, W/P]
    const [B, E, gh, gw] = x.shape as [number, number, number, number];
    return transpose(reshape(x, [B, E, gh * gw]), 1, 2);
  }
}

/** Class token + patch embeddings + position embeddings, then dropout. */
export class ViTEmbeddings extends Module {
  readonly cls_token: Tensor;
  readonly position_embeddings: Tensor;
  readonly patch_embeddings: ViTPatchEmbeddings;
  readonly dropout: Dropout;

  constructor(readonly config: ViTConfig) {
    super();
    const E = config.hidden_size;
    const n = (config.image_size / config.patch_size) ** 2;
    this.cls_token = this.registerParameter("cls_token", randn([1, 1, E], { std: config.initializer_range }));
    this.patch_embeddings = this.registerModule("patch_embeddings", new ViTPatchEmbeddings(config));
    this.position_embeddings = this.registerParameter(
      "position_embeddings",
      randn([1, n + 1, E], { std: config.initializer_range }),
    );
    this.dropout = this.registerModule("dropout", new Dropout(config.hidden_dropout_prob));
  }

  forward(pixels: Tensor, interpolate = false): Tensor {
    const [B, , H, W] = pixels.shape as [number, number, number, number];
    const patches = this.patch_embeddings.forward(pixels, interpolate);
    const E = patches.shape[2] as number;
    const h = cat([expand(this.cls_token, [B, 1, E]), patches], 1);
    const P = this.config.patch_size;
    const positions = interpolate
      ? interpolatePositions(this.position_embeddings, Math.floor(H / P), Math.floor(W / P))
      : this.position_embeddings;
    return this.dropout.forward(add(h, positions));
  }
}

/** Query/key/value self-attention (`attention.attention`). */
export class ViTSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  readonly heads: number;

  constructor(config: ViTConfig) {
    super();
    const E = config.hidden_size;
    this.heads = config.num_attention_heads;
    checkHeads("ViTSelfAttention", E, this.heads);
    const bias = config.qkv_bias;
    this.query = this.registerModule("query", new Linear(E, E, { bias }));
    this.key = this.registerModule("key", new Linear(E, E, { bias }));
    this.value = this.registerModule("value", new Linear(E, E, { bias }));
    this.dropout = this.registerModule("dropout", new Dropout(config.attention_probs_dropout_prob));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions: boolean): LayerOutput {
    return multiHeadSelfAttention(x, this, this.heads, mask, {
      outputAttentions,
      dropout: this.training ? (p) => this.dropout.forward(p) : undefined,
    });
  }
}

/** A dense layer and dropout (`attention.output`, `output`); the residual is added by the layer. */
export class ViTDense extends Module {
  readonly dense: Linear;
  readonly dropout: Dropout;

  constructor(config: ViTConfig, inFeatures: number, outFeatures: number) {
    super();
    this.dense = this.registerModule("dense", new Linear(inFeatures, outFeatures));
    this.dropout = this.registerModule("dropout", new Dropout(config.hidden_dropout_prob));
  }

  forward(x: Tensor): Tensor {
    return this.dropout.forward(this.dense.forward(x));
  }
}

/** `attention`: self-attention and its output projection. */
export class ViTAttention extends Module {
  readonly attention: ViTSelfAttention;
  readonly output: ViTDense;

  constructor(config: ViTConfig) {
    super();
    this.attention = this.registerModule("attention", new ViTSelfAttention(config));
    this.output = this.registerModule("output", new ViTDense(config, config.hidden_size, config.hidden_size));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions: boolean): LayerOutput {
    const a = this.attention.forward(x, mask, outputAttentions);
    return { output: this.output.forward(a.output), probs: a.probs };
  }
}

/** One pre-norm layer: x + attn(LN(x)), then h + MLP(LN(h)). */
export class ViTLayer extends Module {
  readonly attention: ViTAttention;
  readonly intermediate: BertIntermediate;
  readonly output: ViTDense;
  readonly layernorm_before: LayerNorm;
  readonly layernorm_after: LayerNorm;

  constructor(config: ViTConfig) {
    super();
    const eps = config.layer_norm_eps;
    this.attention = this.registerModule("attention", new ViTAttention(config));
    this.intermediate = this.registerModule("intermediate", new BertIntermediate(config));
    this.output = this.registerModule("output", new ViTDense(config, config.intermediate_size, config.hidden_size));
    this.layernorm_before = this.registerModule("layernorm_before", new LayerNorm([config.hidden_size], { eps }));
    this.layernorm_after = this.registerModule("layernorm_after", new LayerNorm([config.hidden_size], { eps }));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions: boolean): LayerOutput {
    const a = this.attention.forward(this.layernorm_before.forward(x), mask, outputAttentions);
    const h = add(a.output, x);
    const out = add(this.output.forward(this.intermediate.forward(this.layernorm_after.forward(h))), h);
    return { output: out, probs: a.probs };
  }
}

/** `encoder.layer.N`. */
export class ViTEncoder extends Module {
  readonly layer: ModuleList<ViTLayer>;

  constructor(config: ViTConfig) {
    super();
    this.layer = this.registerModule(
      "layer",
      new ModuleList(Array.from({ length: config.num_hidden_layers }, () => new ViTLayer(config))),
    );
  }
}

/**
 * The bare ViT: `lastHiddenState` after the final LayerNorm, `poolerOutput` unless built with
 * `addPoolingLayer: false` (as the classifier builds it); `hiddenStates` are the
 * embeddings and each layer's output (the last one before that LayerNorm, as in Python).
 *
 * @example
 * const vit = await ViTModel.fromPretrained("path/to/vit");
 * const { lastHiddenState } = vit.forward({ pixelValues });
 */
export class ViTModel extends PreTrainedModel {
  static override readonly configClass = ViTConfig;
  static override readonly baseModelPrefix: string = "vit";
  declare readonly config: ViTConfig;
  readonly embeddings: ViTEmbeddings;
  readonly encoder: ViTEncoder;
  readonly layernorm: LayerNorm;
  readonly pooler: BertPooler | null;

  constructor(config: ViTConfig, options: { addPoolingLayer?: boolean } = {}) {
    super(config);
    this.embeddings = this.registerModule("embeddings", new ViTEmbeddings(config));
    this.encoder = this.registerModule("encoder", new ViTEncoder(config));
    this.layernorm = this.registerModule(
      "layernorm",
      new LayerNorm([config.hidden_size], { eps: config.layer_norm_eps }),
    );
    this.pooler = options.addPoolingLayer !== false ? this.registerModule("pooler", new BertPooler(config)) : null;
  }

  forward(input: ViTInput): EncoderOutput {
    const pixels = input?.pixelValues;
    if (pixels?.ndim !== 4 || !pixels.dtype.includes("float")) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `${this.constructor.name}.forward: 'pixelValues' must be a float tensor [batch, channels, height, width], got ${pixels ? pixels.describe() : String(pixels)}`,
      );
    }
    const h = this.embeddings.forward(pixels, input.interpolatePosEncoding ?? false);
    const out = runEncoderLayers(this.encoder.layer, h, zeros([1, 1, 1, 1], { dtype: h.dtype }), input);
    const last = this.layernorm.forward(out.lastHiddenState);
    return { ...out, lastHiddenState: last, poolerOutput: this.pooler ? this.pooler.forward(last) : undefined };
  }
}

/**
 * ViT with a linear classifier on the class token.
 *
 * @example
 * const model = await ViTForImageClassification.fromPretrained("path/to/vit");
 * const { logits } = model.forward({ pixelValues }); // [B, num_labels]
 */
export class ViTForImageClassification extends PreTrainedModel {
  static override readonly configClass = ViTConfig;
  static override readonly baseModelPrefix: string = "vit";
  static override readonly ignoreUnexpected: readonly RegExp[] = VIT_CLASSIFIER_IGNORED_KEYS;
  declare readonly config: ViTConfig;
  readonly vit: ViTModel;
  readonly classifier: Linear;
  readonly numLabels: number;

  constructor(config: ViTConfig) {
    super(config);
    this.numLabels = numLabels(config);
    this.vit = this.registerModule("vit", new ViTModel(config, { addPoolingLayer: false }));
    this.classifier = this.registerModule("classifier", new Linear(config.hidden_size, this.numLabels));
  }

  /** The name of class `i`. */
  label(i: number): string {
    return labelOf(this.config, i);
  }

  forward(input: ViTInput): ClassifierOutput & { lastHiddenState: Tensor } {
    const out = this.vit.forward(input);
    const logits = this.classifier.forward(firstToken(out.lastHiddenState));
    return {
      ...classifierOutput(logits, input.labels, this.numLabels, this.config.problem_type, out),
      lastHiddenState: out.lastHiddenState,
    };
  }
}
