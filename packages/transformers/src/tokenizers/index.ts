export { AutoTokenizer, type FromPretrainedOptions, loadTokenizer } from "./auto.ts";
export { renderChatTemplate, selectTemplate } from "./chat-template.ts";
export type { AddedTokenSpec } from "./pipeline/added-tokens.ts";
export { Pipeline, type PipelineParts, partsFromJson } from "./pipeline/core.ts";
export type { TokenizerSource } from "./save.ts";
export { SPECIAL_TOKEN_KEYS, type SpecialTokenKey, VERY_LARGE_INTEGER } from "./special-tokens.ts";
export { type DecodeFn, PreTrainedTokenizer } from "./tokenizer.ts";
export type {
  AddedTokenInit,
  BatchEncoding,
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  Encoding,
  TokenizerConfigJson,
} from "./types.ts";
