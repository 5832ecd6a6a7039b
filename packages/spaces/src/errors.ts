/** Errors thrown by the demo kit, each with a stable `HEARTH_SPACES_*` code and the HTTP status it maps to. */
export const SpacesErrorCodes = {
  HEARTH_SPACES_BAD_CONFIG: "demo(): an option or component is invalid",
  HEARTH_SPACES_BAD_INPUT: "a request's input value does not fit its component",
  HEARTH_SPACES_NOT_FOUND: "no such route or queue job",
  HEARTH_SPACES_QUEUE_FULL: "the queue holds its maximum number of jobs",
  HEARTH_SPACES_FN_FAILED: "the demo function threw",
  HEARTH_SPACES_CLIENT: "the client got an error answer from a demo",
} as const;

export type SpacesErrorCode = keyof typeof SpacesErrorCodes;

const statusOf: Record<SpacesErrorCode, number> = {
  HEARTH_SPACES_BAD_CONFIG: 500,
  HEARTH_SPACES_BAD_INPUT: 400,
  HEARTH_SPACES_NOT_FOUND: 404,
  HEARTH_SPACES_QUEUE_FULL: 503,
  HEARTH_SPACES_FN_FAILED: 500,
  HEARTH_SPACES_CLIENT: 502,
};

/** An error with a stable code; `status` is the HTTP status a demo server answers with. */
export class SpacesError extends Error {
  readonly status: number;
  constructor(
    readonly code: SpacesErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SpacesError";
    this.status = statusOf[code];
  }
}
