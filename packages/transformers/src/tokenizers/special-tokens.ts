/** The named special-token slots of Python's `SpecialTokensMixin`. */
export const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;
export type SpecialTokenKey = (typeof SPECIAL_TOKEN_KEYS)[number];

/** Python's VERY_LARGE_INTEGER, the `model_max_length` of tokenizers that set none. */
export const VERY_LARGE_INTEGER = 1e30;
