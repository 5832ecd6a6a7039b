/** `MistralConfig`: Llama's keys plus `sliding_window`, with Mistral 7B's defaults. */
import { LlamaConfig } from "../llama/config.ts";

/** Mistral's configuration. */
export class MistralConfig extends LlamaConfig {
  static override readonly modelType: string = "mistral";
  static override readonly defaults: Record<string, unknown> = {
    ...LlamaConfig.defaults,
    intermediate_size: 14336,
    num_key_value_heads: 8,
    max_position_embeddings: 4096 * 32,
    sliding_window: 4096,
    rope_theta: 10000.0,
  };
}
