import type { RepoType } from "../db/types.ts";
import { hubError } from "../errors.ts";

/** First path segments that can never be user or org names (they are routes). */
export const reservedNames = new Set([
  "api",
  "datasets",
  "spaces",
  "models",
  "kernels",
  "buckets",
  "oauth",
  "organizations",
  "settings",
  "login",
  "logout",
  "new",
  "static",
  "docs",
  "search",
  "join",
  "users",
  "assets",
  "tokens",
  "lfs",
  "healthz",
]);

/** HF naming rules: `[A-Za-z0-9._-]`, at most 96 chars, no leading/trailing `.`/`-`, no `--`/`..`. */
export function checkName(what: string, name: unknown): string {
  if (
    typeof name !== "string" ||
    !/^[A-Za-z0-9._-]{1,96}$/.test(name) ||
    /^[.-]|[.-]$/.test(name) ||
    name.includes("--") ||
    name.includes("..")
  ) {
    throw hubError(
      "HEARTH_HUBSERVER_BAD_NAME",
      `${what}: expected 1-96 characters from [A-Za-z0-9._-], not starting or ending with '.' or '-', without '--' or '..'; got '${String(name).slice(0, 120)}'`,
    );
  }
  return name;
}

export function checkNamespace(what: string, name: unknown): string {
  const n = checkName(what, name);
  if (reservedNames.has(n.toLowerCase())) throw hubError("HEARTH_HUBSERVER_BAD_NAME", `${what}: '${n}' is reserved`);
  return n;
}

/**
 * Validates a path inside a repo: relative, `/`-separated, no empty, `.` or `..` segments, no
 * backslash or control characters, nothing under `.git/`. Returns it unchanged.
 */
export function checkRepoPath(what: string, path: unknown): string {
  if (typeof path !== "string" || path.length === 0 || path.length > 1024) {
    throw hubError(
      "HEARTH_HUBSERVER_BAD_PATH",
      `${what}: path must be a non-empty string of at most 1024 characters, got ${JSON.stringify(path)?.slice(0, 120)}`,
    );
  }
  const bad =
    hasControlChar(path) ||
    path.includes("\\") ||
    path.startsWith("/") ||
    path.split("/").some((s) => s === "" || s === "." || s === ".." || s === ".git");
  if (bad)
    throw hubError(
      "HEARTH_HUBSERVER_BAD_PATH",
      `${what}: unsafe path '${path.slice(0, 200)}' (absolute, '..', '.', empty segment, backslash, control character or .git)`,
    );
  return path;
}

/** True when `s` holds a C0 control character or DEL. */
export function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

export const typePlural = (t: RepoType): string => `${t}s`;
export const urlPrefix = (t: RepoType): string => (t === "model" ? "" : `${t}s/`);

export function parseTypePlural(s: string): RepoType {
  if (s === "models") return "model";
  if (s === "datasets") return "dataset";
  if (s === "spaces") return "space";
  throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `unknown repo type '${s}'; expected models, datasets or spaces`);
}

export function parseTypeSingular(s: unknown): RepoType {
  if (s === undefined || s === null || s === "model") return "model";
  if (s === "dataset" || s === "space") return s;
  throw hubError(
    "HEARTH_HUBSERVER_BAD_REQUEST",
    `repo type: expected 'model', 'dataset' or 'space', got '${String(s)}'`,
  );
}

/** `"true"`, `"True"`, `"1"` and `true` are all true. */
export const parseBool = (v: unknown): boolean => v === true || v === "true" || v === "True" || v === "1" || v === 1;
