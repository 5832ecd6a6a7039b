import { HubError } from "../errors.ts";
import type { RepoDesignation, RepoType } from "../types/public.ts";

export interface RepoId {
  type: RepoType;
  /** `namespace/name` (or a bare `name` for legacy canonical repos). */
  name: string;
}

const TYPE_PREFIXES: Record<string, RepoType> = { "datasets/": "dataset", "spaces/": "space", "models/": "model" };

/**
 * Normalises a repo designation. `"datasets/org/x"` and `"spaces/org/x"` strings are
 * accepted as shorthands; an explicit `repoType` wins over the default.
 */
export function toRepoId(repo: RepoDesignation, repoType?: RepoType): RepoId {
  if (typeof repo !== "string") return checkRepoId({ type: repo.type, name: repo.name });
  for (const [prefix, type] of Object.entries(TYPE_PREFIXES)) {
    if (repo.startsWith(prefix) && repo.split("/").length === 3)
      return checkRepoId({ type, name: repo.slice(prefix.length) });
  }
  return checkRepoId({ type: repoType ?? "model", name: repo });
}

// Same rules as huggingface_hub's validate_repo_id: [\w.-] names, no "--" or "..", at most 96 chars.
const NAME_PART = /^[A-Za-z0-9_.-]{1,96}$/;

function checkRepoId(id: RepoId): RepoId {
  const parts = id.name.split("/");
  const ok =
    parts.length >= 1 &&
    parts.length <= 2 &&
    parts.every((p) => NAME_PART.test(p) && !/^[.-]|[.-]$/.test(p)) &&
    !id.name.includes("--") &&
    !id.name.includes("..");
  if (!ok) {
    throw new HubError(
      "HEARTH_HUB_INVALID_ARGUMENT",
      `repo id: expected 'namespace/name' with letters, digits, '-', '_', '.' (no '--' or '..', at most 96 chars), got '${id.name}'`,
    );
  }
  if (!["model", "dataset", "space"].includes(id.type)) {
    throw new HubError("HEARTH_HUB_INVALID_ARGUMENT", `repoType: expected model, dataset or space, got '${id.type}'`);
  }
  return id;
}

/** `models`, `datasets`, `spaces`: the plural used in `/api/{types}/...`. */
export function typePlural(type: RepoType): string {
  return `${type}s`;
}

/** `""` for models, `datasets/` or `spaces/` otherwise: the prefix of web-style URLs. */
export function urlPrefix(type: RepoType): string {
  return type === "model" ? "" : `${type}s/`;
}

/** Folder name in the cache: `models--org--name`, as Python's `repo_folder_name`. */
export function repoFolderName(id: RepoId): string {
  return [`${id.type}s`, ...id.name.split("/")].join("--");
}

/** Encodes a revision for a URL path segment the way Python does (`quote(rev, safe="")`). */
export function encodeRevision(revision: string): string {
  return encodeURIComponent(revision);
}

/** Encodes a repo path for `/resolve/` URLs: each segment encoded, `/` kept. */
export function encodeRepoPath(path: string): string {
  return path.split("/").map(encodeURIComponent).join("/");
}

export const COMMIT_HASH = /^[0-9a-f]{40}$/;
