/**
 * Whisper (Radford et al., 2022): a log-mel encoder (two convolutions, the second with stride
 * 2, then fixed sinusoidal positions and pre-norm layers) and a text decoder with causal
 * self-attention (KV cache), cross attention over the encoder output (its keys and values
 * computed once per generation), learned positions and an output projection tied to the token
 * embedding. Names are Python's, so `stateDict()` keys are checkpoint keys.
 *
 * Shapes: B batch, M mel bins, F frames (2·S), S encoder positions, T decoder positions,
 * E d_model, H heads, D = E / H, V vocab.
 */
import {
  add,
  arange,
  Conv1d,
  crossEntropy,
  Dropout,
  dropout,
  Embedding,
  expand,
  gelu,
  indexSelect,
  keep,
  LayerNorm,
  Linear,
  Module,
  ModuleList,
  reshape,
  type Tensor,
  tensor,
  transpose,
  zeros,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../../errors.ts";
import type { GenerateOutput } from "../../generation/generate.ts";
import { activation } from "../../modeling/activations.ts";
import { decoderMask, scaledDotProductAttention } from "../../modeling/attention.ts";
import { lastPositions } from "../../modeling/causal-lm-head.ts";
import { checkHeads, runEncoderLayers } from "../../modeling/encoder-layers.ts";
import type { KVCache } from "../../modeling/kv-cache.ts";
import { outputHead, TiedLinear } from "../../modeling/layers.ts";
import { PreTrainedModel } from "../../modeling/pretrained-model.ts";
import { WhisperConfig } from "./config.ts";
import {
  type WhisperGenerateOptions,
  type WhisperLongFormOutput,
  whisperGenerate,
  whisperGenerateLongForm,
} from "./generation.ts";
import { WHISPER_TIED_WEIGHTS } from "./weights.ts";

/**
 * The cross-attention keys and values of each decoder layer, computed from the encoder output
 * on the first decoding step and reused by every later one (they do not depend on the tokens).
 */
export class CrossAttentionCache {
  readonly #layers = new Map<number, { keys: Tensor; values: Tensor }>();

  /** The layer's keys/values, computing (and keeping) them with `make` the first time. */
  get(layer: number, make: () => { keys: Tensor; values: Tensor }): { keys: Tensor; values: Tensor } {
    let entry = this.#layers.get(layer);
    if (!entry) {
      const made = make();
      entry = { keys: keep(made.keys), values: keep(made.values) };
      this.#layers.set(layer, entry);
    }
    return entry;
  }

  /** Keeps the batch rows `rows` (beam search reordering; rows of one prompt are equal). */
  reorder(rows: readonly number[]): void {
    const index = tensor(rows, { dtype: "int64" });
    for (const [layer, e] of this.#layers) {
      const next = { keys: keep(indexSelect(e.keys, 0, index)), values: keep(indexSelect(e.values, 0, index)) };
      e.keys.dispose();
      e.values.dispose();
      this.#layers.set(layer, next);
    }
    index.dispose();
  }

  /** Frees the tensors. */
  dispose(): void {
    for (const e of this.#layers.values()) {
      e.keys.dispose();
      e.values.dispose();
    }
    this.#layers.clear();
  }
}

/** Multi-head attention with Whisper's projections (`k_proj` has no bias). */
export class WhisperAttention extends Module {
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly q_proj: Linear;
  readonly out_proj: Linear;
  readonly heads: number;
  readonly dropoutP: number;

  constructor(
    embedDim: number,
    heads: number,
    dropout: number,
    readonly layerIdx: number,
  ) {
    super();
    checkHeads("WhisperAttention", embedDim, heads, ["d_model", "attention heads"]);
    this.heads = heads;
    this.dropoutP = dropout;
    this.k_proj = this.registerModule("k_proj", new Linear(embedDim, embedDim, { bias: false }));
    this.v_proj = this.registerModule("v_proj", new Linear(embedDim, embedDim));
    this.q_proj = this.registerModule("q_proj", new Linear(embedDim, embedDim));
    this.out_proj = this.registerModule("out_proj", new Linear(embedDim, embedDim));
  }

  #heads(t: Tensor): Tensor {
    const [B, T, E] = t.shape as [number, number, number];
    return transpose(reshape(t, [B, T, this.heads, E / this.heads]), 1, 2);
  }

  /**
   * `x` `[B, T, E]` attends to itself (with `cache` appending to the self-attention cache) or,
   * with `kv` `[B, S, E]`, to the encoder output (through `crossCache` when given).
   */
  forward(
    x: Tensor,
    mask: Tensor,
    opts: { kv?: Tensor; cache?: KVCache | null; crossCache?: CrossAttentionCache | null; outputAttentions?: boolean },
  ): { output: Tensor; probs?: Tensor } {
    const [B, T, E] = x.shape as [number, number, number];
    const q = this.#heads(this.q_proj.forward(x));
    let keys: Tensor;
    let values: Tensor;
    if (opts.kv) {
      const src = opts.kv;
      const make = () => ({
        keys: this.#heads(this.k_proj.forward(src)),
        values: this.#heads(this.v_proj.forward(src)),
      });
      ({ keys, values } = opts.crossCache ? opts.crossCache.get(this.layerIdx, make) : make());
    } else {
      const k = this.#heads(this.k_proj.forward(x));
      const v = this.#heads(this.v_proj.forward(x));
      ({ keys, values } = opts.cache ? opts.cache.update(this.layerIdx, k, v) : { keys: k, values: v });
    }
    const { output, probs } = scaledDotProductAttention(q, keys, values, mask, (E / this.heads) ** -0.5, {
      returnProbs: opts.outputAttentions,
      dropout: this.training && this.dropoutP > 0 ? (p) => dropout(p, this.dropoutP) : undefined,
    });
    return { output: this.out_proj.forward(reshape(transpose(output, 1, 2), [B, T, E])), probs };
  }
}

/** fc1 → activation → fc2 with Whisper's dropouts. */
function feedForward(
  layer: { fc1: Linear; fc2: Linear; act: (x: Tensor) => Tensor; training: boolean },
  x: Tensor,
  activationDropout: Dropout,
  dropout: Dropout,
): Tensor {
  return dropout.forward(layer.fc2.forward(activationDropout.forward(layer.act(layer.fc1.forward(x)))));
}

/** One pre-norm encoder layer. */
export class WhisperEncoderLayer extends Module {
  readonly self_attn: WhisperAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;
  readonly act: (x: Tensor) => Tensor;
  readonly dropout: Dropout;
  readonly activationDropout: Dropout;

  constructor(config: WhisperConfig, layerIdx: number) {
    super();
    const E = config.d_model;
    this.self_attn = this.registerModule(
      "self_attn",
      new WhisperAttention(E, config.encoder_attention_heads, config.attention_dropout, layerIdx),
    );
    this.self_attn_layer_norm = this.registerModule("self_attn_layer_norm", new LayerNorm([E]));
    this.fc1 = this.registerModule("fc1", new Linear(E, config.encoder_ffn_dim));
    this.fc2 = this.registerModule("fc2", new Linear(config.encoder_ffn_dim, E));
    this.final_layer_norm = this.registerModule("final_layer_norm", new LayerNorm([E]));
    this.act = activation(config.activation_function, "WhisperEncoderLayer");
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
    this.activationDropout = this.registerModule("activation_dropout", new Dropout(config.activation_dropout));
  }

  forward(x: Tensor, mask: Tensor, outputAttentions = false): { output: Tensor; probs?: Tensor } {
    const a = this.self_attn.forward(this.self_attn_layer_norm.forward(x), mask, { outputAttentions });
    const h = add(x, this.dropout.forward(a.output));
    const out = add(h, feedForward(this, this.final_layer_norm.forward(h), this.activationDropout, this.dropout));
    return { output: out, probs: a.probs };
  }
}

/** One pre-norm decoder layer: causal self-attention, cross attention, MLP. */
export class WhisperDecoderLayer extends Module {
  readonly self_attn: WhisperAttention;
  readonly self_attn_layer_norm: LayerNorm;
  readonly encoder_attn: WhisperAttention;
  readonly encoder_attn_layer_norm: LayerNorm;
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly final_layer_norm: LayerNorm;
  readonly act: (x: Tensor) => Tensor;
  readonly dropout: Dropout;
  readonly activationDropout: Dropout;

  constructor(config: WhisperConfig, layerIdx: number) {
    super();
    const E = config.d_model;
    const H = config.decoder_attention_heads;
    this.self_attn = this.registerModule("self_attn", new WhisperAttention(E, H, config.attention_dropout, layerIdx));
    this.self_attn_layer_norm = this.registerModule("self_attn_layer_norm", new LayerNorm([E]));
    this.encoder_attn = this.registerModule(
      "encoder_attn",
      new WhisperAttention(E, H, config.attention_dropout, layerIdx),
    );
    this.encoder_attn_layer_norm = this.registerModule("encoder_attn_layer_norm", new LayerNorm([E]));
    this.fc1 = this.registerModule("fc1", new Linear(E, config.decoder_ffn_dim));
    this.fc2 = this.registerModule("fc2", new Linear(config.decoder_ffn_dim, E));
    this.final_layer_norm = this.registerModule("final_layer_norm", new LayerNorm([E]));
    this.act = activation(config.activation_function, "WhisperDecoderLayer");
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
    this.activationDropout = this.registerModule("activation_dropout", new Dropout(config.activation_dropout));
  }

  forward(
    x: Tensor,
    mask: Tensor,
    encoder: Tensor,
    opts: { cache?: KVCache | null; crossCache?: CrossAttentionCache | null; outputAttentions?: boolean },
  ): { output: Tensor; probs?: Tensor; crossProbs?: Tensor } {
    const a = this.self_attn.forward(this.self_attn_layer_norm.forward(x), mask, {
      cache: opts.cache,
      outputAttentions: opts.outputAttentions,
    });
    let h = add(x, this.dropout.forward(a.output));
    const c = this.encoder_attn.forward(
      this.encoder_attn_layer_norm.forward(h),
      zeros([1, 1, 1, 1], { dtype: h.dtype }),
      {
        kv: encoder,
        crossCache: opts.crossCache,
        outputAttentions: opts.outputAttentions,
      },
    );
    h = add(h, this.dropout.forward(c.output));
    const out = add(h, feedForward(this, this.final_layer_norm.forward(h), this.activationDropout, this.dropout));
    return { output: out, probs: a.probs, crossProbs: c.probs };
  }
}

/** What the encoder returns. */
export interface WhisperEncoderOutput {
  lastHiddenState: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}

/** The audio encoder. */
export class WhisperEncoder extends Module {
  readonly conv1: Conv1d;
  readonly conv2: Conv1d;
  readonly embed_positions: Embedding;
  readonly layers: ModuleList<WhisperEncoderLayer>;
  readonly layer_norm: LayerNorm;
  readonly dropout: Dropout;

  constructor(readonly config: WhisperConfig) {
    super();
    const E = config.d_model;
    this.conv1 = this.registerModule("conv1", new Conv1d(config.num_mel_bins, E, 3, { padding: 1 }));
    this.conv2 = this.registerModule("conv2", new Conv1d(E, E, 3, { stride: 2, padding: 1 }));
    this.embed_positions = this.registerModule("embed_positions", new Embedding(config.max_source_positions, E));
    this.layers = this.registerModule(
      "layers",
      new ModuleList(Array.from({ length: config.encoder_layers }, (_, i) => new WhisperEncoderLayer(config, i))),
    );
    this.layer_norm = this.registerModule("layer_norm", new LayerNorm([E]));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
  }

  /** `features` `[B, M, 2·max_source_positions]` → `[B, max_source_positions, E]`. */
  forward(
    features: Tensor,
    opts: { outputHiddenStates?: boolean; outputAttentions?: boolean } = {},
  ): WhisperEncoderOutput {
    const c = this.config;
    const frames = 2 * c.max_source_positions;
    if (features?.ndim !== 3 || features.shape[1] !== c.num_mel_bins || features.shape[2] !== frames) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `WhisperEncoder.forward: 'inputFeatures' must be [batch, ${c.num_mel_bins}, ${frames}] (log-mel, padded to 30 s by the feature extractor), got ${features ? features.describe() : String(features)}`,
      );
    }
    const x = gelu(this.conv2.forward(gelu(this.conv1.forward(features)))); // [B, E, S]
    const h = this.dropout.forward(add(transpose(x, 1, 2), this.embed_positions.weight));
    const out = runEncoderLayers(this.layers, h, zeros([1, 1, 1, 1], { dtype: h.dtype }), opts);
    const last = this.layer_norm.forward(out.lastHiddenState);
    // Python's last hidden state is the normed one.
    if (out.hiddenStates) out.hiddenStates[out.hiddenStates.length - 1] = last;
    return { ...out, lastHiddenState: last };
  }
}

/** Arguments of the decoder. */
export interface WhisperDecoderInput {
  inputIds: Tensor;
  encoderHiddenStates: Tensor;
  attentionMask?: Tensor | null;
  positionIds?: Tensor | null;
  pastKeyValues?: KVCache | null;
  crossAttentionCache?: CrossAttentionCache | null;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

/** What the decoder returns. */
export interface WhisperDecoderOutput {
  lastHiddenState: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
  crossAttentions?: Tensor[];
  pastKeyValues?: KVCache;
}

/** The text decoder. */
export class WhisperDecoder extends Module {
  readonly embed_tokens: Embedding;
  readonly embed_positions: Embedding;
  readonly layers: ModuleList<WhisperDecoderLayer>;
  readonly layer_norm: LayerNorm;
  readonly dropout: Dropout;
  readonly embedScale: number;

  constructor(readonly config: WhisperConfig) {
    super();
    const E = config.d_model;
    this.embed_tokens = this.registerModule("embed_tokens", new Embedding(config.vocab_size, E));
    this.embed_positions = this.registerModule("embed_positions", new Embedding(config.max_target_positions, E));
    this.layers = this.registerModule(
      "layers",
      new ModuleList(Array.from({ length: config.decoder_layers }, (_, i) => new WhisperDecoderLayer(config, i))),
    );
    this.layer_norm = this.registerModule("layer_norm", new LayerNorm([E]));
    this.dropout = this.registerModule("dropout", new Dropout(config.dropout));
    this.embedScale = config.scale_embedding ? Math.sqrt(E) : 1;
  }

  forward(input: WhisperDecoderInput): WhisperDecoderOutput {
    const ids = input.inputIds;
    if (ids?.ndim !== 2 || ids.dtype.includes("float")) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `WhisperDecoder.forward: 'decoderInputIds' must be an integer tensor [batch, length], got ${ids ? ids.describe() : String(ids)}`,
      );
    }
    const [B, T] = ids.shape as [number, number];
    const cache = input.pastKeyValues ?? null;
    const past = cache?.getSeqLength() ?? 0;
    if (past + T > this.config.max_target_positions) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `WhisperDecoder.forward: ${past + T} positions exceed max_target_positions ${this.config.max_target_positions}`,
      );
    }
    const positions =
      input.positionIds ?? expand(reshape(arange(past, past + T, 1, { dtype: "int64" }), [1, T]), [B, T]);
    let embeds = this.embed_tokens.forward(ids);
    if (this.embedScale !== 1) embeds = embeds.mul(this.embedScale);
    let h = this.dropout.forward(add(embeds, this.embed_positions.forward(positions)));
    const mask = decoderMask(input.attentionMask, T, past, h.dtype);
    const hiddenStates: Tensor[] = [];
    const attentions: Tensor[] = [];
    const crossAttentions: Tensor[] = [];
    for (const layer of this.layers) {
      if (input.outputHiddenStates) hiddenStates.push(h);
      const out = layer.forward(h, mask, input.encoderHiddenStates, {
        cache,
        crossCache: input.crossAttentionCache,
        outputAttentions: input.outputAttentions,
      });
      h = out.output;
      if (out.probs) attentions.push(out.probs);
      if (out.crossProbs) crossAttentions.push(out.crossProbs);
    }
    h = this.layer_norm.forward(h);
    if (input.outputHiddenStates) hiddenStates.push(h);
    return {
      lastHiddenState: h,
      hiddenStates: input.outputHiddenStates ? hiddenStates : undefined,
      attentions: input.outputAttentions ? attentions : undefined,
      crossAttentions: input.outputAttentions ? crossAttentions : undefined,
      pastKeyValues: cache ?? undefined,
    };
  }
}

/** Arguments of `WhisperModel.forward` / `WhisperForConditionalGeneration.forward`. */
export interface WhisperInput {
  /** Log-mel features `[B, M, 3000]` (from `WhisperFeatureExtractor`); or give `encoderOutputs`. */
  inputFeatures?: Tensor | null;
  /** A precomputed encoder output `[B, S, E]`. */
  encoderOutputs?: Tensor | null;
  /** Decoder tokens `[B, T]`; with `labels` and no ids, the labels shifted right after the start token. */
  decoderInputIds?: Tensor | null;
  decoderAttentionMask?: Tensor | null;
  decoderPositionIds?: Tensor | null;
  /** The decoder's self-attention cache. */
  pastKeyValues?: KVCache | null;
  /** The cross-attention keys/values, reused between generation steps. */
  crossAttentionCache?: CrossAttentionCache | null;
  /** Target tokens `[B, T]` (−100 ignored) for the cross-entropy loss. */
  labels?: Tensor | null;
  /** Compute logits only for the last `n` positions. */
  logitsToKeep?: number;
  outputHiddenStates?: boolean;
  outputAttentions?: boolean;
}

/** What the model returns (Python's `Seq2SeqModelOutput` / `Seq2SeqLMOutput`). */
export interface WhisperOutput {
  /** `[B, T, V]` (conditional generation only). */
  logits: Tensor;
  loss?: Tensor;
  /** The decoder's last hidden state `[B, T, E]`. */
  lastHiddenState: Tensor;
  encoderLastHiddenState: Tensor;
  encoderHiddenStates?: Tensor[];
  decoderHiddenStates?: Tensor[];
  encoderAttentions?: Tensor[];
  decoderAttentions?: Tensor[];
  crossAttentions?: Tensor[];
  pastKeyValues?: KVCache;
}

/** Python's `shift_tokens_right`: the start token, then the labels without their last (−100 → pad). */
export function shiftTokensRight(labels: Tensor, padTokenId: number, startTokenId: number): Tensor {
  const rows = labels.tolistSync() as number[][];
  return tensor(
    rows.map((r) => [startTokenId, ...r.slice(0, -1).map((t) => (t === -100 ? padTokenId : t))]),
    { dtype: "int64" },
  );
}

/**
 * The bare encoder-decoder.
 *
 * @example
 * const out = model.forward({ inputFeatures, decoderInputIds }); // out.lastHiddenState [B, T, E]
 */
export class WhisperModel extends PreTrainedModel {
  static override readonly configClass = WhisperConfig;
  static override readonly baseModelPrefix: string = "model";
  declare readonly config: WhisperConfig;
  readonly encoder: WhisperEncoder;
  readonly decoder: WhisperDecoder;

  constructor(config: WhisperConfig) {
    super(config);
    this.encoder = this.registerModule("encoder", new WhisperEncoder(config));
    this.decoder = this.registerModule("decoder", new WhisperDecoder(config));
  }

  forward(input: WhisperInput): Omit<WhisperOutput, "logits"> {
    let enc: WhisperEncoderOutput;
    if (input.encoderOutputs) enc = { lastHiddenState: input.encoderOutputs };
    else if (input.inputFeatures) enc = this.encoder.forward(input.inputFeatures, input);
    else {
      throw fail(ErrorCodes.MODEL_BAD_INPUT, "WhisperModel.forward: give 'inputFeatures' or 'encoderOutputs'");
    }
    let ids = input.decoderInputIds;
    if (!ids && input.labels)
      ids = shiftTokensRight(input.labels, this.config.pad_token_id ?? 0, this.config.decoder_start_token_id);
    if (!ids) throw fail(ErrorCodes.MODEL_BAD_INPUT, "WhisperModel.forward: give 'decoderInputIds' or 'labels'");
    const dec = this.decoder.forward({
      inputIds: ids,
      encoderHiddenStates: enc.lastHiddenState,
      attentionMask: input.decoderAttentionMask,
      positionIds: input.decoderPositionIds,
      pastKeyValues: input.pastKeyValues,
      crossAttentionCache: input.crossAttentionCache,
      outputHiddenStates: input.outputHiddenStates,
      outputAttentions: input.outputAttentions,
    });
    return {
      lastHiddenState: dec.lastHiddenState,
      encoderLastHiddenState: enc.lastHiddenState,
      encoderHiddenStates: enc.hiddenStates,
      decoderHiddenStates: dec.hiddenStates,
      encoderAttentions: enc.attentions,
      decoderAttentions: dec.attentions,
      crossAttentions: dec.crossAttentions,
      pastKeyValues: dec.pastKeyValues,
    };
  }
}

/**
 * Whisper with its output projection (tied to the token embedding): speech → text.
 * `generate` is in `generation.ts` (forced language/task tokens, timestamps, long-form audio).
 *
 * @example
 * const model = await WhisperForConditionalGeneration.fromPretrained("path/to/whisper");
 * const { logits } = model.forward({ inputFeatures, decoderInputIds });
 */
export class WhisperForConditionalGeneration extends PreTrainedModel {
  static override readonly configClass = WhisperConfig;
  static override readonly baseModelPrefix: string = "model";
  declare readonly config: WhisperConfig;
  readonly model: WhisperModel;
  proj_out: TiedLinear | Linear;

  constructor(config: WhisperConfig) {
    super(config);
    this.model = this.registerModule("model", new WhisperModel(config));
    this.proj_out = this.registerModule(
      "proj_out",
      outputHead(this.model.decoder.embed_tokens, config.tie_word_embeddings),
    );
  }

  override tiedWeights(): Record<string, string> {
    return this.config.tie_word_embeddings ? { ...WHISPER_TIED_WEIGHTS } : {};
  }

  override tieWeights(): void {
    if (this.config.tie_word_embeddings)
      this.proj_out = this.registerModule("proj_out", new TiedLinear(this.model.decoder.embed_tokens));
  }

  /**
   * Transcribes (or translates) log-mel features `[B, M, 3000]`: greedy by default, any
   * {@link WhisperGenerateOptions}. Returns the sequences with the decoder prompt first.
   *
   * @example
   * const ids = await model.generate(inputFeatures, { language: "en", maxNewTokens: 64 });
   */
  generate(
    inputFeatures: Tensor,
    options: WhisperGenerateOptions & { returnDictInGenerate: true },
  ): Promise<GenerateOutput>;
  generate(inputFeatures: Tensor, options?: WhisperGenerateOptions): Promise<Tensor>;
  generate(inputFeatures: Tensor, options: WhisperGenerateOptions = {}): Promise<Tensor | GenerateOutput> {
    return whisperGenerate(this, inputFeatures, options);
  }

  /**
   * Transcribes features longer than 30 s (`[B, M, F]`, from the feature extractor with
   * `truncation: false`) window by window with timestamps; returns each row's tokens and segments.
   *
   * @example
   * const { segments } = await model.generateLongForm(inputFeatures, { numFrames: [4200] });
   */
  generateLongForm(
    inputFeatures: Tensor,
    options: WhisperGenerateOptions & { numFrames?: number[] } = {},
  ): Promise<WhisperLongFormOutput> {
    return whisperGenerateLongForm(this, inputFeatures, options);
  }

  forward(input: WhisperInput): WhisperOutput {
    const out = this.model.forward(input);
    const logits = this.proj_out.forward(lastPositions(out.lastHiddenState, input));
    let loss: Tensor | undefined;
    if (input.labels) {
      const V = logits.shape[2] as number;
      loss = crossEntropy(reshape(logits, [-1, V]), reshape(input.labels, [-1]), { ignoreIndex: -100 });
    }
    return { ...out, logits, loss };
  }
}

/** Repeats each row of `x` `[b, …]` `times` times along dim 0 (Python's `repeat_interleave`). */
export function repeatRows(x: Tensor, times: number): Tensor {
  if (times === 1) return x;
  const b = x.shape[0] as number;
  const index = tensor(
    Array.from({ length: b * times }, (_, i) => Math.floor(i / times)),
    { dtype: "int64" },
  );
  return indexSelect(x, 0, index);
}
