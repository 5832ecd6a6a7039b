/**
 * Every error `@hearth/trl` throws carries a stable `code`; the list lives here and in
 * `docs/errors/trl.md` (a test keeps the two in agreement).
 */
export const ErrorCodes = {
  /** A trainer or config option is missing, out of range or of the wrong kind. */
  CONFIG_INVALID: "HEARTH_TRL_CONFIG_INVALID",
  /** A dataset record lacks the fields the trainer needs, or they have the wrong form. */
  BAD_RECORD: "HEARTH_TRL_BAD_RECORD",
  /** The model cannot serve the requested role (no adapters to disable, no generate, …). */
  UNSUPPORTED_MODEL: "HEARTH_TRL_UNSUPPORTED_MODEL",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** The error class of `@hearth/trl`: `err.code` is one of {@link ErrorCodes}. */
export class HearthTrlError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HearthTrlError";
    this.code = code;
  }
}

/** Shorthand: `throw fail(ErrorCodes.X, "...")`. */
export function fail(code: ErrorCode, message: string, cause?: unknown): HearthTrlError {
  return new HearthTrlError(code, message, cause === undefined ? undefined : { cause });
}
