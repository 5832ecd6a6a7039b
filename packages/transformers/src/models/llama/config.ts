/** `LlamaConfig`: the keys of a Llama `config.json`, with Python's defaults (Llama 2 7B). */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";
import type { RopeScaling } from "../../modeling/rope.ts";

/**
 * Llama's configuration. Mistral and Qwen2 extend it.
 *
 * @example
 * const config = new LlamaConfig({ hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 });
 */
export class LlamaConfig extends PretrainedConfig {
  static override readonly modelType: string = "llama";
  static override readonly defaults: Record<string, unknown> = {
    vocab_size: 32000,
    hidden_size: 4096,
    intermediate_size: 11008,
    num_hidden_layers: 32,
    num_attention_heads: 32,
    num_key_value_heads: null,
    hidden_act: "silu",
    max_position_embeddings: 2048,
    initializer_range: 0.02,
    rms_norm_eps: 1e-6,
    pretraining_tp: 1,
    tie_word_embeddings: false,
    rope_theta: 10000.0,
    rope_scaling: null,
    attention_bias: false,
    attention_dropout: 0.0,
    use_cache: true,
    bos_token_id: 1,
    eos_token_id: 2,
  };

  declare vocab_size: number;
  declare hidden_size: number;
  declare intermediate_size: number;
  declare num_hidden_layers: number;
  declare num_attention_heads: number;
  declare num_key_value_heads: number | null;
  declare head_dim?: number | null;
  declare hidden_act: string;
  declare max_position_embeddings: number;
  declare initializer_range: number;
  declare rms_norm_eps: number;
  declare rope_theta: number;
  declare rope_scaling: RopeScaling | null;
  declare attention_bias: boolean;
  declare attention_dropout: number;
  /** Bias on the MLP projections (newer configs; absent means false). */
  declare mlp_bias?: boolean;
  declare sliding_window?: number | null;

  /** Key/value heads (`num_attention_heads` when unset: plain multi-head attention). */
  get kvHeads(): number {
    return this.num_key_value_heads ?? this.num_attention_heads;
  }

  /** Per-head size (`head_dim`, else `hidden_size / num_attention_heads`). */
  get headDim(): number {
    return this.head_dim ?? this.hidden_size / this.num_attention_heads;
  }
}
