/**
 * RoBERTa checkpoint names: BERT's module names under `roberta.`, the `lm_head` (its decoder
 * tied to the word embeddings, `lm_head.decoder.bias` a second copy of `lm_head.bias`), and
 * the legacy position-ids buffer and pooler weights that heads without a pooler ignore.
 */
export const ROBERTA_IGNORED_KEYS: readonly RegExp[] = [
  /embeddings\.position_ids$/,
  /^lm_head\.decoder\.bias$/,
  /(^|\.)pooler\.dense\./,
];

/** The masked-LM decoder's tie. */
export const ROBERTA_MLM_TIED_WEIGHTS = {
  "lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight",
} as const;
