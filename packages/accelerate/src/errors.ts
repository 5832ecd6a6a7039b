/**
 * Error codes of `@hearth/accelerate`. `docs/errors/accelerate.md` lists them; a test keeps the
 * two in step.
 */

/** Stable error codes and what they mean. */
export const ERROR_CODES = {
  HEARTH_ACCELERATE_ARGUMENT: "An option or argument has the wrong type or an out-of-range value.",
  HEARTH_ACCELERATE_DEVICE: "A requested device is unknown or not available on this machine.",
  HEARTH_ACCELERATE_PREPARE: "prepare() got an object it cannot prepare, or a method needs a prepared object.",
  HEARTH_ACCELERATE_DISTRIBUTED:
    "The process group is misconfigured, or a peer process failed or sent mismatched data.",
  HEARTH_ACCELERATE_STATE:
    "A saved training state is missing, incomplete or does not match the objects it is loaded into.",
  HEARTH_ACCELERATE_DEVICE_MAP: "A device map or memory budget is invalid, or does not cover the model's weights.",
  HEARTH_ACCELERATE_CHECKPOINT: "A checkpoint lacks a weight the model needs, or has it with another shape.",
  HEARTH_ACCELERATE_LAUNCH: "hearth launch got bad arguments, or a worker process failed.",
} as const;

/** One of {@link ERROR_CODES}' keys. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The error type every `@hearth/accelerate` function throws. */
export class AccelerateError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "AccelerateError";
    this.code = code;
  }
}
