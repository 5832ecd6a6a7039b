/** `Qwen2Config`: Llama's keys plus the sliding-window switches, with Qwen2 7B's defaults. */
import { LlamaConfig } from "../llama/config.ts";

/** Qwen2's configuration. */
export class Qwen2Config extends LlamaConfig {
  static override readonly modelType: string = "qwen2";
  static override readonly defaults: Record<string, unknown> = {
    ...LlamaConfig.defaults,
    vocab_size: 151936,
    intermediate_size: 22016,
    num_key_value_heads: 32,
    max_position_embeddings: 32768,
    rope_theta: 10000.0,
    use_sliding_window: false,
    sliding_window: 4096,
    max_window_layers: 28,
    bos_token_id: null,
    eos_token_id: null,
  };
  declare use_sliding_window: boolean;
}
