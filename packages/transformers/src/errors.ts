/**
 * Every error `@hearth/transformers` throws carries a stable `code`; the list lives here and in
 * `docs/errors/transformers.md` (a test keeps the two in agreement).
 */
export const ErrorCodes = {
  /** `config.json` or `generation_config.json` is missing or is not valid JSON of the expected shape. */
  CONFIG_INVALID: "HEARTH_CONFIG_INVALID",
  /** A config's `model_type`/`architectures` or an Auto class's task names no model family Hearth implements. */
  MODEL_UNSUPPORTED: "HEARTH_MODEL_UNSUPPORTED",
  /** `fromPretrained` could not find the folder, repository or a file it needs (e.g. no weights). */
  MODEL_NOT_FOUND: "HEARTH_MODEL_NOT_FOUND",
  /** A checkpoint lacks a parameter the model needs. */
  MODEL_MISSING_WEIGHT: "HEARTH_MODEL_MISSING_WEIGHT",
  /** A checkpoint tensor's shape differs from the parameter it loads into. */
  MODEL_SHAPE_MISMATCH: "HEARTH_MODEL_SHAPE_MISMATCH",
  /** A model call got a bad argument (wrong rank, dtype, missing ids, inconsistent cache). */
  MODEL_BAD_INPUT: "HEARTH_MODEL_BAD_INPUT",
  /** Writing a model or config folder failed. */
  MODEL_SAVE_FAILED: "HEARTH_MODEL_SAVE_FAILED",
  /** A generation option is invalid or the combination is unsupported. */
  GENERATION_BAD_OPTION: "HEARTH_GENERATION_BAD_OPTION",
  /** `pipeline()` got an unknown task or inputs it cannot handle. */
  PIPELINE_BAD_INPUT: "HEARTH_PIPELINE_BAD_INPUT",
  /** An image or audio processor got input it cannot decode or a size/rate it cannot use. */
  PROCESSOR_BAD_INPUT: "HEARTH_PROCESSOR_BAD_INPUT",
  /** `preprocessor_config.json` is missing, invalid, or names a processor Hearth does not implement. */
  PROCESSOR_CONFIG_INVALID: "HEARTH_PROCESSOR_CONFIG_INVALID",
  /** A file a tokenizer needs is absent from the folder. */
  TOKENIZER_FILE_MISSING: "HEARTH_TOKENIZER_FILE_MISSING",
  /** A tokenizer file exists but cannot be parsed (bad JSON, bad protobuf, bad line). */
  TOKENIZER_FILE_INVALID: "HEARTH_TOKENIZER_FILE_INVALID",
  /** A tokenizer file names a component type (model, normalizer, ...) that Hearth does not implement. */
  TOKENIZER_UNSUPPORTED: "HEARTH_TOKENIZER_UNSUPPORTED",
  /** An argument to a tokenizer method is out of range or of the wrong kind. */
  TOKENIZER_BAD_ARGUMENT: "HEARTH_TOKENIZER_BAD_ARGUMENT",
  /** Padding was asked for but the tokenizer has no pad token. */
  TOKENIZER_NO_PAD_TOKEN: "HEARTH_TOKENIZER_NO_PAD_TOKEN",
  /** A token id is outside the vocabulary. */
  TOKENIZER_UNKNOWN_ID: "HEARTH_TOKENIZER_UNKNOWN_ID",
  /** A text cannot be tokenized (a character the model cannot represent and no unk token). */
  TOKENIZER_UNKNOWN_TOKEN: "HEARTH_TOKENIZER_UNKNOWN_TOKEN",
  /** `applyChatTemplate` was called but no chat template is configured. */
  CHAT_TEMPLATE_MISSING: "HEARTH_CHAT_TEMPLATE_MISSING",
  /** The chat template failed to parse or render (including `raise_exception` from the template). */
  CHAT_TEMPLATE_ERROR: "HEARTH_CHAT_TEMPLATE_ERROR",
  /** Writing tokenizer files failed. */
  TOKENIZER_SAVE_FAILED: "HEARTH_TOKENIZER_SAVE_FAILED",
  /** A `TrainingArguments` option or `Trainer` argument is invalid. */
  TRAINER_BAD_ARGUMENT: "HEARTH_TRAINER_BAD_ARGUMENT",
  /** A batch cannot be built or used: features of the wrong shape, a model that returns no loss. */
  TRAINER_BAD_BATCH: "HEARTH_TRAINER_BAD_BATCH",
  /** A checkpoint is missing, incomplete, or does not fit the model/optimiser being resumed. */
  TRAINER_CHECKPOINT: "HEARTH_TRAINER_CHECKPOINT",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The error class of `@hearth/transformers`: `err.code` is one of {@link ErrorCodes}. */
export class HearthTransformersError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HearthTransformersError";
    this.code = code;
  }
}

/** Shorthand used across the package: `throw fail(ErrorCodes.X, "...")`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): HearthTransformersError {
  return new HearthTransformersError(code, message, cause === undefined ? undefined : { cause });
}
