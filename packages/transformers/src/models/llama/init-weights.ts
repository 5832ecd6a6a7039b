/**
 * Llama's `_init_weights` (also Mistral's and Qwen2's, whose configs extend `LlamaConfig`):
 * linear layers and the token embedding from N(0, initializer_range²), the `pad_token_id`
 * embedding row zero (Python builds `embed_tokens` with `padding_idx = pad_token_id`), RMSNorm
 * weights one.
 */
import { registerInitRule, standardInit } from "../../modeling/init-weights.ts";

registerInitRule("llama", (m, _name, config) => standardInit(m, config, { paddingIdx: config.pad_token_id }));
