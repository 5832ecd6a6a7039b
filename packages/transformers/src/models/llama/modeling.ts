/**
 * Llama (Touvron et al., 2023): RMSNorm pre-norm blocks, rotary positions, grouped-query
 * attention and a SwiGLU MLP; the LM head is separate unless `tie_word_embeddings`. The layer
 * choices that Mistral (sliding window) and Qwen2 (qkv bias) change are read from a
 * {@link DecoderSpec}, so those families subclass these classes and override `spec`.
 *
 * Shapes: B batch, T new positions, E hidden_size, H heads, H_kv key/value heads, D head size.
 */
import {
  add,
  Dropout,
  Embedding,
  Linear,
  Module,
  ModuleList,
  mul,
  type ProductActivation,
  RMSNorm,
  reshape,
  type Tensor,
  transpose,
} from "@hearth/tensor";
import { activation, productActivation } from "../../modeling/activations.ts";
import {
  type DecoderAttentionMask,
  decoderAttentionMask,
  scaledDotProductAttention,
  toHeads,
} from "../../modeling/attention.ts";
import { causalLMOutput } from "../../modeling/causal-lm-head.ts";
import { attendsInOneOp, KVCache } from "../../modeling/kv-cache.ts";
import { outputHead, TiedLinear } from "../../modeling/layers.ts";
import type { CausalLMInput, CausalLMOutput, DecoderInput, DecoderOutput } from "../../modeling/outputs.ts";
import { PreTrainedModel, PreTrainedModelForCausalLM } from "../../modeling/pretrained-model.ts";
import { applyRotary, RotaryEmbedding } from "../../modeling/rope.ts";
import { checkIds, defaultPositions } from "../gpt2/modeling.ts";
import { LlamaConfig } from "./config.ts";
import { LLAMA_TIED_WEIGHTS } from "./weights.ts";

/** The per-family layer choices of a Llama-style decoder. */
export interface DecoderSpec {
  /** Bias on q/k/v projections. */
  qkvBias: boolean;
  /** Bias on the output projection. */
  outBias: boolean;
  /** Bias on the MLP projections. */
  mlpBias: boolean;
  /** Attend only to the last `slidingWindow` positions (Mistral), or null. */
  slidingWindow: number | null;
}

/** Llama's spec: biases as `attention_bias`/`mlp_bias` say, no sliding window. */
export function llamaSpec(config: LlamaConfig): DecoderSpec {
  return {
    qkvBias: config.attention_bias,
    outBias: config.attention_bias,
    mlpBias: config.mlp_bias ?? false,
    slidingWindow: null,
  };
}

/** Grouped-query self-attention with rotary positions. */
export class LlamaAttention extends Module {
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly o_proj: Linear;
  readonly attn_dropout: Dropout;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;

  constructor(
    config: LlamaConfig,
    spec: DecoderSpec,
    readonly layerIdx: number,
  ) {
    super();
    const E = config.hidden_size;
    this.heads = config.num_attention_heads;
    this.kvHeads = config.kvHeads;
    this.headDim = config.headDim;
    const D = this.headDim;
    this.q_proj = this.registerModule("q_proj", new Linear(E, this.heads * D, { bias: spec.qkvBias }));
    this.k_proj = this.registerModule("k_proj", new Linear(E, this.kvHeads * D, { bias: spec.qkvBias }));
    this.v_proj = this.registerModule("v_proj", new Linear(E, this.kvHeads * D, { bias: spec.qkvBias }));
    this.o_proj = this.registerModule("o_proj", new Linear(this.heads * D, E, { bias: spec.outBias }));
    this.attn_dropout = new Dropout(config.attention_dropout);
  }

  forward(
    x: Tensor,
    rope: { cos: Tensor; sin: Tensor },
    mask: DecoderAttentionMask,
    cache: KVCache | null,
    outputAttentions = false,
  ): { output: Tensor; probs?: Tensor } {
    const [B, T] = x.shape as [number, number];
    const D = this.headDim;
    const q = applyRotary(toHeads(this.q_proj.forward(x), this.heads), rope.cos, rope.sin);
    const k = applyRotary(toHeads(this.k_proj.forward(x), this.kvHeads), rope.cos, rope.sin);
    const v = toHeads(this.v_proj.forward(x), this.kvHeads);
    if (cache instanceof KVCache && attendsInOneOp(q, outputAttentions, this.training && this.attn_dropout.p > 0)) {
      // a decoding step: the cache write and attention in one op
      const out = cache.attend(this.layerIdx, q, k, v, mask, 1 / Math.sqrt(D));
      return { output: this.o_proj.forward(reshape(out, [B, T, this.heads * D])) };
    }
    const kv = cache ? cache.update(this.layerIdx, k, v) : { keys: k, values: v };
    const { output, probs } = scaledDotProductAttention(q, kv.keys, kv.values, mask, 1 / Math.sqrt(D), {
      returnProbs: outputAttentions,
      dropout: this.training && this.attn_dropout.p > 0 ? (p) => this.attn_dropout.forward(p) : undefined,
    });
    return { output: this.o_proj.forward(reshape(transpose(output, 1, 2), [B, T, this.heads * D])), probs };
  }
}

/** SwiGLU feed-forward: `down(act(gate(x)) · up(x))`. */
export class LlamaMLP extends Module {
  readonly gate_proj: Linear;
  readonly up_proj: Linear;
  readonly down_proj: Linear;
  readonly act: (x: Tensor) => Tensor;
  /** The activation as gate_proj's product applies it itself (undefined: none has that form). */
  readonly #fusedAct: ProductActivation | undefined;

  constructor(config: LlamaConfig, spec: DecoderSpec) {
    super();
    const E = config.hidden_size;
    const I = config.intermediate_size;
    this.gate_proj = this.registerModule("gate_proj", new Linear(E, I, { bias: spec.mlpBias }));
    this.up_proj = this.registerModule("up_proj", new Linear(E, I, { bias: spec.mlpBias }));
    this.down_proj = this.registerModule("down_proj", new Linear(I, E, { bias: spec.mlpBias }));
    this.act = activation(config.hidden_act, "LlamaMLP");
    this.#fusedAct = productActivation(config.hidden_act);
  }

  forward(x: Tensor): Tensor {
    // A plain gate_proj (not one an adapter wraps) applies the activation in the pass that
    // writes its product (one op and one pass over the [B, T, I] activations fewer; the same values).
    const gate =
      this.#fusedAct && this.gate_proj.constructor === Linear
        ? this.gate_proj.forward(x, { activation: this.#fusedAct })
        : this.act(this.gate_proj.forward(x));
    return this.down_proj.forward(mul(gate, this.up_proj.forward(x)));
  }
}

/** One decoder layer: RMSNorm → attention → residual, RMSNorm → MLP → residual. */
export class LlamaDecoderLayer extends Module {
  readonly self_attn: LlamaAttention;
  readonly mlp: LlamaMLP;
  readonly input_layernorm: RMSNorm;
  readonly post_attention_layernorm: RMSNorm;

  constructor(config: LlamaConfig, spec: DecoderSpec, layerIdx: number) {
    super();
    const eps = config.rms_norm_eps;
    this.self_attn = this.registerModule("self_attn", new LlamaAttention(config, spec, layerIdx));
    this.mlp = this.registerModule("mlp", new LlamaMLP(config, spec));
    this.input_layernorm = this.registerModule("input_layernorm", new RMSNorm(config.hidden_size, { eps }));
    this.post_attention_layernorm = this.registerModule(
      "post_attention_layernorm",
      new RMSNorm(config.hidden_size, { eps }),
    );
  }

  forward(
    x: Tensor,
    rope: { cos: Tensor; sin: Tensor },
    mask: DecoderAttentionMask,
    cache: KVCache | null,
    outputAttentions = false,
  ): { output: Tensor; probs?: Tensor } {
    const a = this.self_attn.forward(this.input_layernorm.forward(x), rope, mask, cache, outputAttentions);
    const h = add(x, a.output);
    return { output: add(h, this.mlp.forward(this.post_attention_layernorm.forward(h))), probs: a.probs };
  }
}

/** The bare Llama decoder: token embedding, layers, final RMSNorm. */
export class LlamaModel extends PreTrainedModel {
  static override readonly configClass: typeof LlamaConfig = LlamaConfig;
  static override readonly baseModelPrefix: string = "model";
  declare readonly config: LlamaConfig;
  readonly embed_tokens: Embedding;
  readonly layers: ModuleList<LlamaDecoderLayer>;
  readonly norm: RMSNorm;
  readonly rotary: RotaryEmbedding;
  readonly spec: DecoderSpec;

  /** The family's layer choices; Mistral and Qwen2 override this. */
  static spec(config: LlamaConfig): DecoderSpec {
    return llamaSpec(config);
  }

  constructor(config: LlamaConfig, spec?: DecoderSpec) {
    super(config);
    this.spec = spec ?? (this.constructor as typeof LlamaModel).spec(config);
    this.embed_tokens = this.registerModule("embed_tokens", new Embedding(config.vocab_size, config.hidden_size));
    this.layers = this.registerModule(
      "layers",
      new ModuleList(
        Array.from({ length: config.num_hidden_layers }, (_, i) => new LlamaDecoderLayer(config, this.spec, i)),
      ),
    );
    this.norm = this.registerModule("norm", new RMSNorm(config.hidden_size, { eps: config.rms_norm_eps }));
    this.rotary = new RotaryEmbedding({
      headDim: config.headDim,
      theta: config.rope_theta,
      maxPositionEmbeddings: config.max_position_embeddings,
      scaling: config.rope_scaling,
    });
    this.postInit();
  }

  forward(input: DecoderInput): DecoderOutput {
    const [B, T] = checkIds(`${this.constructor.name}.forward`, input.inputIds);
    const cache = input.pastKeyValues ?? null;
    const past = cache?.getSeqLength() ?? 0;
    const positions = input.positionIds ?? defaultPositions(B, T, past);
    let h = this.embed_tokens.forward(input.inputIds);
    const rope = this.rotary.cosSin(positions);
    const mask = decoderAttentionMask(input.attentionMask, T, past, h.dtype, this.spec.slidingWindow);
    const hiddenStates: Tensor[] = [];
    const attentions: Tensor[] = [];
    for (const layer of this.layers) {
      if (input.outputHiddenStates) hiddenStates.push(h);
      const out = layer.forward(h, rope, mask, cache, input.outputAttentions);
      h = out.output;
      if (out.probs) attentions.push(out.probs);
    }
    h = this.norm.forward(h);
    if (input.outputHiddenStates) hiddenStates.push(h);
    return {
      lastHiddenState: h,
      hiddenStates: input.outputHiddenStates ? hiddenStates : undefined,
      attentions: input.outputAttentions ? attentions : undefined,
      pastKeyValues: cache ?? undefined,
    };
  }
}

/** Llama with its language-modelling head. */
export class LlamaForCausalLM extends PreTrainedModelForCausalLM {
  static override readonly configClass: typeof LlamaConfig = LlamaConfig;
  static override readonly baseModelPrefix: string = "model";
  /** The base-model class this head wraps (Mistral/Qwen2 set theirs). */
  static readonly baseModel: typeof LlamaModel = LlamaModel;
  declare readonly config: LlamaConfig;
  readonly model: LlamaModel;
  lm_head: Linear | TiedLinear;

  constructor(config: LlamaConfig) {
    super(config);
    const base = (this.constructor as typeof LlamaForCausalLM).baseModel;
    this.model = this.registerModule("model", new base(config, base.spec(config)));
    this.lm_head = this.registerModule("lm_head", outputHead(this.model.embed_tokens, config.tie_word_embeddings));
    this.postInit();
  }

  override tiedWeights(): Record<string, string> {
    return this.config.tie_word_embeddings ? { ...LLAMA_TIED_WEIGHTS } : {};
  }

  override tieWeights(): void {
    if (this.config.tie_word_embeddings)
      this.lm_head = this.registerModule("lm_head", new TiedLinear(this.model.embed_tokens));
  }

  forward(input: CausalLMInput): CausalLMOutput {
    return causalLMOutput(this.model.forward(input), this.lm_head, input);
  }
}
