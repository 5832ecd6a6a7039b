/**
 * DistilBERT checkpoint names (its own: `transformer.layer.N.attention.q_lin`, `ffn.lin1`,
 * `sa_layer_norm`, …, kept as Python's); the masked-LM `vocab_projector` is tied to the word
 * embeddings and keeps its own bias.
 */
export const DISTILBERT_MLM_TIED_WEIGHTS = {
  "vocab_projector.weight": "distilbert.embeddings.word_embeddings.weight",
} as const;
