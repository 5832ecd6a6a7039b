import { type HubErrorCode, isHubError } from "@hearth/hub";

/** Exit statuses of `hearth`, stable for scripts. Listed by `hearth --help`. */
export const EXIT = {
  OK: 0,
  /** Unexpected failure, or a hub error not covered below. */
  ERROR: 1,
  /** Bad command line: unknown command or option, missing argument. */
  USAGE: 2,
  /** Repo, revision, file or cache folder does not exist. */
  NOT_FOUND: 3,
  /** No token, or the hub refused it (401/403, gated repo). */
  AUTH: 4,
  /** Hub unreachable, or offline mode and the file is not cached. */
  OFFLINE: 5,
  /** Downloaded bytes failed the size or sha256 check. */
  INTEGRITY: 6,
  /** Already exists (409) or the branch moved (412). */
  CONFLICT: 7,
} as const;

const BY_CODE: Partial<Record<HubErrorCode, number>> = {
  HEARTH_HUB_INVALID_ARGUMENT: EXIT.USAGE,
  HEARTH_HUB_REPO_NOT_FOUND: EXIT.NOT_FOUND,
  HEARTH_HUB_REVISION_NOT_FOUND: EXIT.NOT_FOUND,
  HEARTH_HUB_ENTRY_NOT_FOUND: EXIT.NOT_FOUND,
  HEARTH_HUB_CACHE_NOT_FOUND: EXIT.NOT_FOUND,
  HEARTH_HUB_LOCAL_FILE: EXIT.NOT_FOUND,
  HEARTH_HUB_NOT_LOGGED_IN: EXIT.AUTH,
  HEARTH_HUB_UNAUTHORIZED: EXIT.AUTH,
  HEARTH_HUB_FORBIDDEN: EXIT.AUTH,
  HEARTH_HUB_INVALID_TOKEN: EXIT.AUTH,
  HEARTH_HUB_GATED_REPO: EXIT.AUTH,
  HEARTH_HUB_DISABLED_REPO: EXIT.AUTH,
  HEARTH_HUB_NETWORK: EXIT.OFFLINE,
  HEARTH_HUB_OFFLINE_NOT_CACHED: EXIT.OFFLINE,
  HEARTH_HUB_OFFLINE: EXIT.OFFLINE,
  HEARTH_HUB_CHECKSUM_MISMATCH: EXIT.INTEGRITY,
  HEARTH_HUB_SIZE_MISMATCH: EXIT.INTEGRITY,
  HEARTH_HUB_CONFLICT: EXIT.CONFLICT,
  HEARTH_HUB_PRECONDITION_FAILED: EXIT.CONFLICT,
};

export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT.USAGE;
  if (isHubError(err)) return BY_CODE[err.code] ?? EXIT.ERROR;
  return EXIT.ERROR;
}

/** A command-line mistake: printed with the command's usage, exit 2. */
export class UsageError extends Error {
  readonly code = "HEARTH_CLI_USAGE";
}
