/**
 * Inputs and outputs of encoder models and their task heads, as Python's
 * `BaseModelOutputWithPooling`, `MaskedLMOutput`, `SequenceClassifierOutput`,
 * `TokenClassifierOutput` and `ImageClassifierOutput`.
 */
import type { Tensor } from "@hearth/tensor";

/** Arguments of a text encoder's `forward` (BERT, RoBERTa, DistilBERT). */
export interface TextEncoderInput {
  /** Token ids `[B, T]` (int64 or int32). */
  inputIds: Tensor;
  /** `[B, T]`, 1 for real tokens and 0 for padding; default all ones. */
  attentionMask?: Tensor | null;
  /** `[B, T]` segment ids; default all zeros (families without segments ignore it). */
  tokenTypeIds?: Tensor | null;
  /** `[B, T]` positions; default as the family computes them. */
  positionIds?: Tensor | null;
  /** Return the embeddings and every layer's output. */
  outputHiddenStates?: boolean;
  /** Return every layer's attention probabilities `[B, H, T, T]`. */
  outputAttentions?: boolean;
}

/** A task head's input: the encoder's plus optional labels. */
export interface LabeledTextInput extends TextEncoderInput {
  /** Task targets (class ids, per-token ids with −100 ignored, floats for regression / multi-label). */
  labels?: Tensor | null;
}

/** What an encoder returns. */
export interface EncoderOutput {
  /** `[B, T, E]` the last layer's output. */
  lastHiddenState: Tensor;
  /** `[B, E]` the pooled first token, where the model has a pooler. */
  poolerOutput?: Tensor;
  /** `[0]` the embeddings, then each layer's output. */
  hiddenStates?: Tensor[];
  /** Each layer's attention probabilities. */
  attentions?: Tensor[];
}

/** What a classification / masked-LM head returns. */
export interface ClassifierOutput {
  /** `[B, C]` (sequence / image), `[B, T, C]` (token) or `[B, T, V]` (masked LM). */
  logits: Tensor;
  /** Scalar loss when labels were given. */
  loss?: Tensor;
  hiddenStates?: Tensor[];
  attentions?: Tensor[];
}
