/**
 * GPT-2 (Radford et al., 2019): learned absolute positions, pre-norm blocks with LayerNorm,
 * fused qkv projection in `Conv1D` layout, tanh-GELU MLP, and an LM head tied to the token
 * embedding. Module and parameter names are Python's, so `stateDict()` keys are checkpoint keys.
 *
 * Shapes: B batch, T new positions, E n_embd, H heads, D = E / H.
 */
import {
  add,
  arange,
  Dropout,
  Embedding,
  expand,
  LayerNorm,
  type Linear,
  Module,
  ModuleList,
  type ProductActivation,
  reshape,
  split,
  type Tensor,
  transpose,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../../errors.ts";
import { activation, productActivation } from "../../modeling/activations.ts";
import {
  type DecoderAttentionMask,
  decoderAttentionMask,
  scaledDotProductAttention,
  toHeads,
} from "../../modeling/attention.ts";
import { causalLMOutput } from "../../modeling/causal-lm-head.ts";
import { attendsInOneOp, KVCache } from "../../modeling/kv-cache.ts";
import { Conv1D, outputHead, TiedLinear } from "../../modeling/layers.ts";
import type { CausalLMInput, CausalLMOutput, DecoderInput, DecoderOutput } from "../../modeling/outputs.ts";
import { PreTrainedModel, PreTrainedModelForCausalLM } from "../../modeling/pretrained-model.ts";
import { GPT2Config } from "./config.ts";
import { GPT2_TIED_WEIGHTS } from "./weights.ts";

/** Multi-head causal self-attention with a fused qkv projection. */
export class GPT2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;
  readonly attn_dropout: Dropout;
  readonly resid_dropout: Dropout;
  readonly heads: number;
  readonly scale: number;

  constructor(
    config: GPT2Config,
    readonly layerIdx: number,
  ) {
    super();
    const E = config.n_embd;
    this.heads = config.n_head;
    const D = E / this.heads;
    this.c_attn = this.registerModule("c_attn", new Conv1D(3 * E, E));
    this.c_proj = this.registerModule("c_proj", new Conv1D(E, E));
    this.attn_dropout = this.registerModule("attn_dropout", new Dropout(config.attn_pdrop));
    this.resid_dropout = this.registerModule("resid_dropout", new Dropout(config.resid_pdrop));
    let scale = config.scale_attn_weights ? 1 / Math.sqrt(D) : 1;
    if (config.scale_attn_by_inverse_layer_idx) scale /= layerIdx + 1;
    this.scale = scale;
  }

  /** `x` `[B, T, E]` → `[B, T, E]` (and the probabilities when asked); plus `residual` when given. */
  forward(
    x: Tensor,
    mask: DecoderAttentionMask,
    cache: KVCache | null,
    outputAttentions = false,
    residual?: Tensor,
  ): { output: Tensor; probs?: Tensor } {
    const [B, T, E] = x.shape as [number, number, number];
    const H = this.heads;
    const qkv = this.c_attn.forward(x);
    if (cache instanceof KVCache && attendsInOneOp(qkv, outputAttentions, this.training && this.attn_dropout.p > 0)) {
      // a decoding step: the head split, the cache write, attention and the head merge in one
      // op, reading the heads of the fused projection in place
      const merged = cache.attendQkv(this.layerIdx, qkv, H, H, mask, this.scale);
      return { output: projectAdd(this.c_proj, merged, this.resid_dropout, residual) };
    }
    const [qx, kx, vx] = split(qkv, E, 2) as [Tensor, Tensor, Tensor];
    const [q, k, v] = [toHeads(qx, H), toHeads(kx, H), toHeads(vx, H)];
    const kv = cache ? cache.update(this.layerIdx, k, v) : { keys: k, values: v };
    const { output, probs } = scaledDotProductAttention(q, kv.keys, kv.values, mask, this.scale, {
      returnProbs: outputAttentions,
      dropout: this.training && this.attn_dropout.p > 0 ? (p) => this.attn_dropout.forward(p) : undefined,
    });
    const merged = reshape(transpose(output, 1, 2), [B, T, E]);
    return { output: projectAdd(this.c_proj, merged, this.resid_dropout, residual), probs };
  }
}

/** The feed-forward block: `c_fc` → activation → `c_proj`. */
export class GPT2MLP extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;
  readonly dropout: Dropout;
  readonly act: (x: Tensor) => Tensor;
  /** The activation as c_fc's product applies it itself (undefined: none has that form). */
  readonly #fusedAct: ProductActivation | undefined;

  constructor(config: GPT2Config) {
    super();
    const inner = config.n_inner ?? 4 * config.n_embd;
    this.c_fc = this.registerModule("c_fc", new Conv1D(inner, config.n_embd));
    this.c_proj = this.registerModule("c_proj", new Conv1D(config.n_embd, inner));
    this.dropout = this.registerModule("dropout", new Dropout(config.resid_pdrop));
    this.act = activation(config.activation_function, "GPT2MLP");
    this.#fusedAct = productActivation(config.activation_function);
  }

  /** `x` `[B, T, E]` → `[B, T, E]`; plus `residual` when given. */
  forward(x: Tensor, residual?: Tensor): Tensor {
    // A plain c_fc (not one an adapter wraps) applies the activation in the pass that writes its
    // product (one op and one pass over the [B, T, 4E] activations fewer; the same values).
    const h =
      this.#fusedAct && this.c_fc.constructor === Conv1D
        ? this.c_fc.forward(x, { activation: this.#fusedAct })
        : this.act(this.c_fc.forward(x));
    return projectAdd(this.c_proj, h, this.dropout, residual);
  }
}

/**
 * `residual + dropout(layer(x))`. A plain Conv1D (not one an adapter wraps) with dropout off adds
 * the residual in the pass that writes its product (one op instead of two per block half).
 */
function projectAdd(layer: Conv1D, x: Tensor, dropout: Dropout, residual: Tensor | undefined): Tensor {
  if (!residual) return dropout.forward(layer.forward(x));
  if (layer.constructor === Conv1D && (!dropout.training || dropout.p === 0)) return layer.forward(x, { residual });
  return add(residual, dropout.forward(layer.forward(x)));
}

/** One pre-norm transformer block. */
export class GPT2Block extends Module {
  readonly ln_1: LayerNorm;
  readonly attn: GPT2Attention;
  readonly ln_2: LayerNorm;
  readonly mlp: GPT2MLP;

  constructor(config: GPT2Config, layerIdx: number) {
    super();
    const eps = config.layer_norm_epsilon;
    this.ln_1 = this.registerModule("ln_1", new LayerNorm([config.n_embd], { eps }));
    this.attn = this.registerModule("attn", new GPT2Attention(config, layerIdx));
    this.ln_2 = this.registerModule("ln_2", new LayerNorm([config.n_embd], { eps }));
    this.mlp = this.registerModule("mlp", new GPT2MLP(config));
  }

  forward(
    x: Tensor,
    mask: DecoderAttentionMask,
    cache: KVCache | null,
    outputAttentions = false,
  ): { output: Tensor; probs?: Tensor } {
    const a = this.attn.forward(this.ln_1.forward(x), mask, cache, outputAttentions, x);
    const h = a.output;
    return { output: this.mlp.forward(this.ln_2.forward(h), h), probs: a.probs };
  }
}

/** Default positions `past .. past + T - 1` for every row, `[B, T]`. */
export function defaultPositions(B: number, T: number, past: number): Tensor {
  return expand(reshape(arange(past, past + T, 1, { dtype: "int64" }), [1, T]), [B, T]);
}

/** Checks `inputIds` and returns `[B, T]`. */
export function checkIds(where: string, inputIds: Tensor): [number, number] {
  if (inputIds?.ndim !== 2 || inputIds.dtype.includes("float")) {
    throw fail(
      ErrorCodes.MODEL_BAD_INPUT,
      `${where}: 'inputIds' must be an integer tensor [batch, length], got ${inputIds ? inputIds.describe() : String(inputIds)}`,
    );
  }
  return inputIds.shape as [number, number];
}

/** The bare GPT-2 transformer: embeddings, blocks, final LayerNorm. */
export class GPT2Model extends PreTrainedModel {
  static override readonly configClass = GPT2Config;
  static override readonly baseModelPrefix: string = "transformer";
  static override readonly ignoreUnexpected: readonly RegExp[] = [/\.attn\.bias$/, /\.attn\.masked_bias$/];
  declare readonly config: GPT2Config;
  readonly wte: Embedding;
  readonly wpe: Embedding;
  readonly drop: Dropout;
  readonly h: ModuleList<GPT2Block>;
  readonly ln_f: LayerNorm;

  constructor(config: GPT2Config) {
    super(config);
    this.wte = this.registerModule("wte", new Embedding(config.vocab_size, config.n_embd));
    this.wpe = this.registerModule("wpe", new Embedding(config.n_positions, config.n_embd));
    this.drop = this.registerModule("drop", new Dropout(config.embd_pdrop));
    this.h = this.registerModule(
      "h",
      new ModuleList(Array.from({ length: config.n_layer }, (_, i) => new GPT2Block(config, i))),
    );
    this.ln_f = this.registerModule("ln_f", new LayerNorm([config.n_embd], { eps: config.layer_norm_epsilon }));
    this.postInit();
  }

  forward(input: DecoderInput): DecoderOutput {
    const [B, T] = checkIds("GPT2Model.forward", input.inputIds);
    const cache = input.pastKeyValues ?? null;
    const past = cache?.getSeqLength() ?? 0;
    if (past + T > this.config.n_positions) {
      throw fail(
        ErrorCodes.MODEL_BAD_INPUT,
        `GPT2Model.forward: ${past + T} positions exceed n_positions ${this.config.n_positions}`,
      );
    }
    const positions = input.positionIds ?? defaultPositions(B, T, past);
    let h = this.drop.forward(add(this.wte.forward(input.inputIds), this.wpe.forward(positions)));
    const mask = decoderAttentionMask(input.attentionMask, T, past, h.dtype);
    const hiddenStates: Tensor[] = [];
    const attentions: Tensor[] = [];
    for (const block of this.h) {
      if (input.outputHiddenStates) hiddenStates.push(h);
      const out = block.forward(h, mask, cache, input.outputAttentions);
      h = out.output;
      if (out.probs) attentions.push(out.probs);
    }
    h = this.ln_f.forward(h);
    if (input.outputHiddenStates) hiddenStates.push(h);
    return {
      lastHiddenState: h,
      hiddenStates: input.outputHiddenStates ? hiddenStates : undefined,
      attentions: input.outputAttentions ? attentions : undefined,
      pastKeyValues: cache ?? undefined,
    };
  }
}

/** GPT-2 with its language-modelling head (tied to `wte` unless `tie_word_embeddings` is false). */
export class GPT2LMHeadModel extends PreTrainedModelForCausalLM {
  static override readonly configClass = GPT2Config;
  static override readonly baseModelPrefix: string = "transformer";
  static override readonly ignoreUnexpected: readonly RegExp[] = GPT2Model.ignoreUnexpected;
  declare readonly config: GPT2Config;
  readonly transformer: GPT2Model;
  lm_head: Linear | TiedLinear;

  constructor(config: GPT2Config) {
    super(config);
    this.transformer = this.registerModule("transformer", new GPT2Model(config));
    this.lm_head = this.registerModule("lm_head", outputHead(this.transformer.wte, config.tie_word_embeddings));
    this.postInit();
  }

  override tiedWeights(): Record<string, string> {
    return this.config.tie_word_embeddings ? { ...GPT2_TIED_WEIGHTS } : {};
  }

  override tieWeights(): void {
    if (this.config.tie_word_embeddings)
      this.lm_head = this.registerModule("lm_head", new TiedLinear(this.transformer.wte));
  }

  forward(input: CausalLMInput): CausalLMOutput {
    return causalLMOutput(this.transformer.forward(input), this.lm_head, input);
  }
}
