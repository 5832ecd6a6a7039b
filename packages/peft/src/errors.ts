/**
 * Every error `@hearth/peft` throws carries a stable `code`; the list lives here and in
 * `docs/errors/peft.md` (a test keeps the two in agreement).
 */
export const ErrorCodes = {
  /** A `LoraConfig`/`PromptTuningConfig` option is out of range or of the wrong kind. */
  CONFIG_INVALID: "HEARTH_PEFT_CONFIG_INVALID",
  /** `targetModules` matched no module, or matched a module type LoRA cannot wrap. */
  TARGET_NOT_FOUND: "HEARTH_PEFT_TARGET_NOT_FOUND",
  /** An adapter name is unknown, already taken, or the operation needs one that is active. */
  ADAPTER_NAME: "HEARTH_PEFT_ADAPTER_NAME",
  /** `adapter_config.json` or `adapter_model.safetensors` is missing, malformed or does not fit the model. */
  ADAPTER_FILE: "HEARTH_PEFT_ADAPTER_FILE",
  /** The base model lacks what the PEFT method needs (e.g. input embeddings for prompt tuning). */
  UNSUPPORTED_MODEL: "HEARTH_PEFT_UNSUPPORTED_MODEL",
  /** Writing an adapter folder failed. */
  SAVE_FAILED: "HEARTH_PEFT_SAVE_FAILED",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The error class of `@hearth/peft`: `err.code` is one of {@link ErrorCodes}. */
export class HearthPeftError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HearthPeftError";
    this.code = code;
  }
}

/** Shorthand: `throw fail(ErrorCodes.X, "...")`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): HearthPeftError {
  return new HearthPeftError(code, message, cause === undefined ? undefined : { cause });
}
