/**
 * GPT-2 checkpoint names. Hearth's modules carry Python's names, so the mapping is the
 * identity; what remains is what Python's `GPT2PreTrainedModel` declares: the causal-mask
 * buffers old checkpoints carry (`h.N.attn.bias`, `h.N.attn.masked_bias`) are ignored, the LM
 * head is tied to `transformer.wte.weight`, and checkpoints saved from `GPT2Model` (no
 * `transformer.` prefix, as `openai-community/gpt2`) load into `GPT2LMHeadModel` and back.
 */
export const GPT2_TIED_WEIGHTS = { "lm_head.weight": "transformer.wte.weight" } as const;
