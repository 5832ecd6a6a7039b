/** The inputs and outputs of decoder-only models, as Python's `CausalLMOutputWithPast`. */
import type { Tensor } from "@hearth/tensor";
import type { KVCache } from "./kv-cache.ts";

/** Arguments of a decoder's `forward`. */
export interface DecoderInput {
  /** Token ids `[B, T]` (int64 or int32). */
  inputIds: Tensor;
  /** `[B, past + T]`, 1 for real tokens and 0 for padding; default all ones. */
  attentionMask?: Tensor | null;
  /** `[B, T]`; default `past .. past + T - 1` (pass `cumsum(mask) - 1` for left padding). */
  positionIds?: Tensor | null;
  /** The cache to read earlier positions from and append these to. */
  pastKeyValues?: KVCache | null;
  /** Return every layer's hidden states (`[0]` the embeddings, the last after the final norm). */
  outputHiddenStates?: boolean;
  /** Return every layer's attention probabilities `[B, H, T, past + T]`. */
  outputAttentions?: boolean;
}

/** Arguments of a causal LM's `forward`. */
export interface CausalLMInput extends DecoderInput {
  /** `[B, T]` targets; the loss compares position t's logits with label t + 1; −100 is ignored. */
  labels?: Tensor | null;
  /** Compute logits only for the last `n` positions (generation needs 1); default all. */
  logitsToKeep?: number;
}

/** What a decoder's base model returns. */
export interface DecoderOutput {
  lastHiddenState: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
  pastKeyValues?: KVCache;
}

/** What a causal LM returns. */
export interface CausalLMOutput {
  logits: Tensor;
  loss?: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
  pastKeyValues?: KVCache;
}
