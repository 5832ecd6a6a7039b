/**
 * Every error thrown by `@hearth/hub` is a {@link HubError} with a stable `code`.
 * The codes are listed in `docs/errors/hub.md`; a test keeps the two in step.
 */
export const HUB_ERROR_CODES = {
  HEARTH_HUB_INVALID_ARGUMENT: "an argument is missing or malformed",
  HEARTH_HUB_REPO_NOT_FOUND:
    "the repository does not exist, or is private and the token may not see it (X-Error-Code: RepoNotFound)",
  HEARTH_HUB_REVISION_NOT_FOUND: "the branch, tag or commit does not exist (X-Error-Code: RevisionNotFound)",
  HEARTH_HUB_ENTRY_NOT_FOUND:
    "the file or folder does not exist at that revision (X-Error-Code: EntryNotFound, or a cached .no_exist marker)",
  HEARTH_HUB_GATED_REPO: "the repository is gated and the caller is not approved (X-Error-Code: GatedRepo)",
  HEARTH_HUB_DISABLED_REPO: "the repository has been disabled by the hub",
  HEARTH_HUB_UNAUTHORIZED: "401: the token is missing, invalid or expired",
  HEARTH_HUB_FORBIDDEN: "403: the token may not do this (e.g. a read token used to write)",
  HEARTH_HUB_BAD_REQUEST: "400: the hub rejected the request payload",
  HEARTH_HUB_CONFLICT: "409: the thing already exists (repo, branch, tag)",
  HEARTH_HUB_PRECONDITION_FAILED: "412: parentCommit is no longer the head of the branch",
  HEARTH_HUB_HTTP: "any other non-2xx answer from the hub",
  HEARTH_HUB_NETWORK: "the hub could not be reached (connection refused, reset, DNS)",
  HEARTH_HUB_BAD_RESPONSE: "the hub answered without a header or field the protocol requires",
  HEARTH_HUB_OFFLINE: "offline mode (HF_HUB_OFFLINE) forbids this network call",
  HEARTH_HUB_OFFLINE_NOT_CACHED: "offline mode (HF_HUB_OFFLINE or localFilesOnly) and the file is not in the cache",
  HEARTH_HUB_CHECKSUM_MISMATCH: "downloaded bytes do not hash to the sha256 the hub announced",
  HEARTH_HUB_HASH_FAILED:
    "the sha256 of a download could not be computed (its hash worker failed); the partial file is discarded",
  HEARTH_HUB_SIZE_MISMATCH: "downloaded byte count differs from the size the hub announced",
  HEARTH_HUB_NOT_LOGGED_IN: "an operation needs a token and none is set (HF_TOKEN, login)",
  HEARTH_HUB_INVALID_TOKEN: "login refused the token (organisation token, or whoami-v2 rejected it)",
  HEARTH_HUB_LOCK_TIMEOUT: "another process held the download lock for too long",
  HEARTH_HUB_LFS: "the LFS batch API refused an object or an LFS transfer failed",
  HEARTH_HUB_CACHE_NOT_FOUND: "the cache directory does not exist",
  HEARTH_HUB_LOCAL_FILE: "a local file or folder to upload cannot be read",
} as const;

export type HubErrorCode = keyof typeof HUB_ERROR_CODES;

/** Details carried by errors that came from an HTTP answer. */
export interface HubErrorHttpInfo {
  status?: number;
  url?: string;
  requestId?: string;
  /** `X-Error-Code` header, verbatim. */
  serverCode?: string;
  /** `X-Repo-Commit` of the answer (sent with EntryNotFound). */
  repoCommit?: string;
}

export class HubError extends Error {
  readonly code: HubErrorCode;
  readonly status?: number;
  readonly url?: string;
  readonly requestId?: string;
  readonly serverCode?: string;
  readonly repoCommit?: string;

  constructor(code: HubErrorCode, message: string, http: HubErrorHttpInfo = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HubError";
    this.code = code;
    this.status = http.status;
    this.url = http.url;
    this.requestId = http.requestId;
    this.serverCode = http.serverCode;
    this.repoCommit = http.repoCommit;
  }
}

/** True when `err` is a {@link HubError} with one of the given codes. */
export function isHubError(err: unknown, ...codes: HubErrorCode[]): err is HubError {
  return err instanceof HubError && (codes.length === 0 || codes.includes(err.code));
}
