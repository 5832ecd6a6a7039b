/** `GPT2Config`: the keys of a GPT-2 `config.json`, with Python's defaults (GPT-2 small). */
import { PretrainedConfig } from "../../configuration/pretrained-config.ts";

/**
 * GPT-2's configuration.
 *
 * @example
 * const config = new GPT2Config({ n_layer: 2, n_embd: 64, n_head: 4, vocab_size: 1000 });
 */
export class GPT2Config extends PretrainedConfig {
  static override readonly modelType: string = "gpt2";
  static override readonly defaults: Record<string, unknown> = {
    vocab_size: 50257,
    n_positions: 1024,
    n_embd: 768,
    n_layer: 12,
    n_head: 12,
    n_inner: null,
    activation_function: "gelu_new",
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
    layer_norm_epsilon: 1e-5,
    initializer_range: 0.02,
    scale_attn_weights: true,
    scale_attn_by_inverse_layer_idx: false,
    reorder_and_upcast_attn: false,
    bos_token_id: 50256,
    eos_token_id: 50256,
    tie_word_embeddings: true,
    use_cache: true,
  };

  declare vocab_size: number;
  declare n_positions: number;
  declare n_embd: number;
  declare n_layer: number;
  declare n_head: number;
  declare n_inner: number | null;
  declare activation_function: string;
  declare resid_pdrop: number;
  declare embd_pdrop: number;
  declare attn_pdrop: number;
  declare layer_norm_epsilon: number;
  declare initializer_range: number;
  declare scale_attn_weights: boolean;
  declare scale_attn_by_inverse_layer_idx: boolean;
  declare reorder_and_upcast_attn: boolean;
}
