/**
 * BERT checkpoint names. Hearth's modules carry Python's names, so the mapping is the
 * identity; what remains is what Python's `BertPreTrainedModel` declares: old checkpoints
 * carry the `embeddings.position_ids` buffer, pre-training checkpoints carry the
 * next-sentence head (`cls.seq_relationship`) and a second copy of the MLM bias
 * (`cls.predictions.decoder.bias`), heads built without the pooler ignore its weights, and the
 * MLM decoder is tied to the word embeddings.
 */
export const BERT_IGNORED_KEYS: readonly RegExp[] = [/embeddings\.position_ids$/];

/** Keys heads without a pooler (masked LM, token classification) ignore. */
export const BERT_POOLER_KEYS: readonly RegExp[] = [/(^|\.)pooler\.dense\./];

/** Keys the masked-LM head ignores besides those. */
export const BERT_MLM_IGNORED_KEYS: readonly RegExp[] = [
  /^cls\.predictions\.decoder\.bias$/,
  /^cls\.seq_relationship\./,
];

/** The masked-LM decoder's tie. */
export const BERT_MLM_TIED_WEIGHTS = {
  "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
} as const;
