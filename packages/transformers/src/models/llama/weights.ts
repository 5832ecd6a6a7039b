/**
 * Llama checkpoint names. Hearth's modules carry Python's names (`model.layers.N.self_attn.q_proj`,
 * …), so the mapping is the identity; Llama-family checkpoints (Mistral and Qwen2 too) tie
 * `lm_head.weight` to the token embedding only when `tie_word_embeddings` is true, and then
 * Python leaves it out of the file. Checkpoints saved from `LlamaModel` (no `model.` prefix)
 * load into `LlamaForCausalLM` and back.
 */
export const LLAMA_TIED_WEIGHTS = { "lm_head.weight": "model.embed_tokens.weight" } as const;
