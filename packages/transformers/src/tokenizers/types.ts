/** Public types of the tokenizers. Option names are camelCase; on-disk JSON keeps its snake_case keys. */

/** Options of {@link PreTrainedTokenizer.call} and {@link PreTrainedTokenizer.encode}. */
export interface EncodeOptions {
  /** Second sequence(s) of a pair (BERT's sentence B). */
  textPair?: string | string[];
  /** Add the model's special tokens ([CLS]/[SEP], <s>, ...). Default true. */
  addSpecialTokens?: boolean;
  /** `true`/"longest": pad to the longest row; "max_length": pad to `maxLength`; false: no padding (default). */
  padding?: boolean | "longest" | "max_length" | "do_not_pad";
  /** `true`/"longest_first", "only_first", "only_second", or false (default). */
  truncation?: boolean | "longest_first" | "only_first" | "only_second" | "do_not_truncate";
  /** Length limit for truncation and "max_length" padding; defaults to `model_max_length`. */
  maxLength?: number;
  /** Overlap between overflowing windows (with `returnOverflowingTokens`). */
  stride?: number;
  /** Round the padded length up to a multiple of this. */
  padToMultipleOf?: number;
  /** Overrides the tokenizer's `padding_side`. */
  paddingSide?: "left" | "right";
  /** Overrides the tokenizer's `truncation_side`. */
  truncationSide?: "left" | "right";
  returnAttentionMask?: boolean;
  returnTokenTypeIds?: boolean;
  returnSpecialTokensMask?: boolean;
  /** Offsets are [start, end) in UTF-16 code units of the input string ((0, 0) for special tokens). */
  returnOffsetsMapping?: boolean;
  /** Truncated-away windows become extra rows; `overflowToSampleMapping` names each row's input. */
  returnOverflowingTokens?: boolean;
  returnLength?: boolean;
}

/** Model inputs for a batch (one row per input, plus overflow rows). */
export interface BatchEncoding {
  inputIds: number[][];
  attentionMask?: number[][];
  tokenTypeIds?: number[][];
  specialTokensMask?: number[][];
  offsetMapping?: Array<Array<[number, number]>>;
  overflowToSampleMapping?: number[];
  length?: number[];
  /** Per row and token: 0 or 1 for the sequence of a pair it came from, null for special tokens. */
  sequenceIds: Array<Array<number | null>>;
}

/** Model inputs for one input (the rows of a {@link BatchEncoding} without the batch axis). */
export interface Encoding {
  inputIds: number[];
  attentionMask?: number[];
  tokenTypeIds?: number[];
  specialTokensMask?: number[];
  offsetMapping?: Array<[number, number]>;
  length?: number;
  sequenceIds: Array<number | null>;
  /** Rows cut off by truncation, when `returnOverflowingTokens` is set. */
  overflowing?: Encoding[];
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
  /** Defaults to the tokenizer's `clean_up_tokenization_spaces`. */
  cleanUpTokenizationSpaces?: boolean;
}

/** A token to add: its text plus how it matches (defaults as in Python's `AddedToken`). */
export interface AddedTokenInit {
  content: string;
  singleWord?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  /** Match against normalised text (default: true for normal tokens, false for special ones). */
  normalized?: boolean;
  special?: boolean;
}

/** A chat message as chat templates expect it. */
export interface ChatMessage {
  role: string;
  content: unknown;
  [key: string]: unknown;
}

export interface ChatTemplateOptions {
  /** End with the header that opens the assistant's turn. */
  addGenerationPrompt?: boolean;
  /** Leave the final message open (no end-of-turn token) so generation continues it. */
  continueFinalMessage?: boolean;
  /** Tool (function) definitions, as JSON schemas: `{type: "function", function: {name, description, parameters}}`. */
  tools?: unknown[];
  /** Documents for retrieval-augmented generation: `{title, text}` records. */
  documents?: unknown[];
  /** A template string, or the name of one of the tokenizer's named templates. */
  chatTemplate?: string;
  /** Return token ids (default, as in Python) instead of the rendered string. */
  tokenize?: boolean;
  /** Extra variables for the template. */
  templateKwargs?: Record<string, unknown>;
}

/** tokenizer_config.json as on disk (the keys Hearth reads; everything else is kept for saving). */
export interface TokenizerConfigJson {
  tokenizer_class?: string;
  bos_token?: string | { content: string } | null;
  eos_token?: string | { content: string } | null;
  unk_token?: string | { content: string } | null;
  sep_token?: string | { content: string } | null;
  pad_token?: string | { content: string } | null;
  cls_token?: string | { content: string } | null;
  mask_token?: string | { content: string } | null;
  additional_special_tokens?: Array<string | { content: string }>;
  added_tokens_decoder?: Record<string, Record<string, unknown>>;
  model_max_length?: number;
  padding_side?: "left" | "right";
  truncation_side?: "left" | "right";
  clean_up_tokenization_spaces?: boolean;
  chat_template?: string | Array<{ name: string; template: string }>;
  model_input_names?: string[];
  add_bos_token?: boolean;
  add_eos_token?: boolean;
  legacy?: boolean | null;
  do_lower_case?: boolean;
  strip_accents?: boolean | null;
  tokenize_chinese_chars?: boolean;
  add_prefix_space?: boolean;
  [key: string]: unknown;
}
