/**
 * Errors thrown by the hub server. Each carries a stable `HEARTH_HUBSERVER_*` code, the HTTP
 * status it maps to and, where the Hugging Face clients rely on it, the `X-Error-Code` header
 * value (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`, ...).
 */
export const HubServerErrorCodes = {
  HEARTH_HUBSERVER_BAD_REQUEST: "malformed request: body, query or field of the wrong shape",
  HEARTH_HUBSERVER_BAD_PATH: "a file path in the repo is unsafe (`..`, absolute, backslash, NUL, `.git`)",
  HEARTH_HUBSERVER_BAD_NAME: "a repo, user or org name breaks the naming rules",
  HEARTH_HUBSERVER_BAD_NDJSON: "a commit body line is not valid JSON or has an unknown key",
  HEARTH_HUBSERVER_UNAUTHORIZED: "missing or invalid credentials",
  HEARTH_HUBSERVER_FORBIDDEN: "the caller may not do this (read token writing, not a member, ...)",
  HEARTH_HUBSERVER_REPO_NOT_FOUND: "no such repo, or private and the caller may not see it",
  HEARTH_HUBSERVER_GATED: "the repo is gated: files need a signed-in (auto) or approved member (manual) caller",
  HEARTH_HUBSERVER_REVISION_NOT_FOUND: "branch, tag or commit unknown",
  HEARTH_HUBSERVER_ENTRY_NOT_FOUND: "file or folder missing at a valid revision",
  HEARTH_HUBSERVER_NOT_FOUND: "no such page, user, token or object",
  HEARTH_HUBSERVER_CONFLICT: "the thing being created already exists",
  HEARTH_HUBSERVER_PARENT_MISMATCH: "commit parentCommit is not the head of the branch (412)",
  HEARTH_HUBSERVER_TOO_LARGE: "a file or upload is over the configured size limit",
  HEARTH_HUBSERVER_LFS_HASH_MISMATCH: "uploaded bytes do not hash to the announced sha256 or size",
  HEARTH_HUBSERVER_LFS_OBJECT_MISSING: "a commit references an LFS object that was never uploaded",
  HEARTH_HUBSERVER_RANGE_NOT_SATISFIABLE: "a Range header points past the end of the file (416)",
  HEARTH_HUBSERVER_NOT_IMPLEMENTED: "the endpoint exists on huggingface.co but not here (501)",
  HEARTH_HUBSERVER_GIT_FAILED: "a git subprocess failed",
  HEARTH_HUBSERVER_DB_UNSUPPORTED: "HEARTH_DATABASE_URL names a database this build cannot open",
  HEARTH_HUBSERVER_CONFIG: "a server option is invalid",
  HEARTH_HUBSERVER_INTERNAL: "an unexpected server fault (logged with its request id)",
} as const;

export type HubServerErrorCode = keyof typeof HubServerErrorCodes;

const statusOf: Record<HubServerErrorCode, number> = {
  HEARTH_HUBSERVER_BAD_REQUEST: 400,
  HEARTH_HUBSERVER_BAD_PATH: 400,
  HEARTH_HUBSERVER_BAD_NAME: 400,
  HEARTH_HUBSERVER_BAD_NDJSON: 400,
  HEARTH_HUBSERVER_UNAUTHORIZED: 401,
  HEARTH_HUBSERVER_FORBIDDEN: 403,
  HEARTH_HUBSERVER_REPO_NOT_FOUND: 404,
  HEARTH_HUBSERVER_GATED: 403,
  HEARTH_HUBSERVER_REVISION_NOT_FOUND: 404,
  HEARTH_HUBSERVER_ENTRY_NOT_FOUND: 404,
  HEARTH_HUBSERVER_NOT_FOUND: 404,
  HEARTH_HUBSERVER_CONFLICT: 409,
  HEARTH_HUBSERVER_PARENT_MISMATCH: 412,
  HEARTH_HUBSERVER_TOO_LARGE: 413,
  HEARTH_HUBSERVER_LFS_HASH_MISMATCH: 422,
  HEARTH_HUBSERVER_LFS_OBJECT_MISSING: 422,
  HEARTH_HUBSERVER_RANGE_NOT_SATISFIABLE: 416,
  HEARTH_HUBSERVER_NOT_IMPLEMENTED: 501,
  HEARTH_HUBSERVER_GIT_FAILED: 500,
  HEARTH_HUBSERVER_DB_UNSUPPORTED: 500,
  HEARTH_HUBSERVER_CONFIG: 500,
  HEARTH_HUBSERVER_INTERNAL: 500,
};

/** The `X-Error-Code` header value the HF clients map to exception classes. */
const hfCodeOf: Partial<Record<HubServerErrorCode, string>> = {
  HEARTH_HUBSERVER_REPO_NOT_FOUND: "RepoNotFound",
  HEARTH_HUBSERVER_GATED: "GatedRepo",
  HEARTH_HUBSERVER_REVISION_NOT_FOUND: "RevisionNotFound",
  HEARTH_HUBSERVER_ENTRY_NOT_FOUND: "EntryNotFound",
};

/** An error with a stable code, an HTTP status and optional extra response headers. */
export class HubServerError extends Error {
  readonly code: HubServerErrorCode;
  readonly status: number;
  readonly hfErrorCode: string | undefined;
  /** Extra headers to send with the error response (e.g. `X-Repo-Commit` on EntryNotFound). */
  readonly headers: Record<string, string>;

  constructor(
    code: HubServerErrorCode,
    message: string,
    opts: { headers?: Record<string, string>; status?: number } = {},
  ) {
    super(message);
    this.name = "HubServerError";
    this.code = code;
    this.status = opts.status ?? statusOf[code];
    this.hfErrorCode = hfCodeOf[code];
    this.headers = opts.headers ?? {};
  }
}

/** Shorthand: `throw hubError("HEARTH_HUBSERVER_BAD_PATH", "commit: path '../x' ...")`. */
export function hubError(
  code: HubServerErrorCode,
  message: string,
  opts?: { headers?: Record<string, string>; status?: number },
): HubServerError {
  return new HubServerError(code, message, opts);
}
