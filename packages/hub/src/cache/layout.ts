/**
 * The cache layout shared with Python (hub-api.md §3.5):
 *
 *   <cache>/<type>s--<ns>--<name>/blobs/<etag>
 *   <cache>/<type>s--<ns>--<name>/snapshots/<commit>/<path>   -> ../../blobs/<etag> (relative symlink)
 *   <cache>/<type>s--<ns>--<name>/refs/<revision>              holds the 40-hex commit, no newline
 *   <cache>/<type>s--<ns>--<name>/.no_exist/<commit>/<path>    empty: the hub said 404 EntryNotFound
 *   <cache>/.locks/<type>s--<ns>--<name>/<etag>.lock
 */
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative } from "node:path";
import { HubError } from "../errors.ts";
import { type RepoId, repoFolderName } from "../utils/repo-id.ts";

/** Returned by tryToLoadFromCache when the cache records that the file does not exist. */
export const CACHED_NO_EXIST: unique symbol = Symbol("CACHED_NO_EXIST");

export function repoCacheDir(cacheDir: string, id: RepoId): string {
  return join(cacheDir, repoFolderName(id));
}

/** Rejects absolute paths, `..` segments and empty segments in a path inside a repo. */
export function checkRepoPath(path: string, what = "path"): string {
  const p = path.replace(/\\/g, "/");
  if (!p || p.startsWith("/") || p.split("/").some((s) => s === ".." || s === "" || s === ".")) {
    throw new HubError(
      "HEARTH_HUB_INVALID_ARGUMENT",
      `${what}: expected a relative path inside the repo, got '${path}'`,
    );
  }
  return p;
}

export function blobPath(repoDir: string, etag: string): string {
  return join(repoDir, "blobs", etag);
}

export function snapshotDir(repoDir: string, commit: string): string {
  return join(repoDir, "snapshots", commit);
}

export function snapshotPath(repoDir: string, commit: string, path: string): string {
  return join(repoDir, "snapshots", commit, ...path.split("/"));
}

export function noExistPath(repoDir: string, commit: string, path: string): string {
  return join(repoDir, ".no_exist", commit, ...path.split("/"));
}

export function lockPath(cacheDir: string, id: RepoId, etag: string): string {
  return join(cacheDir, ".locks", repoFolderName(id), `${etag}.lock`);
}

export function refPath(repoDir: string, revision: string): string {
  return join(repoDir, "refs", ...revision.split("/"));
}

export function readRef(repoDir: string, revision: string): string | undefined {
  try {
    const v = readFileSync(refPath(repoDir, revision), "utf8").trim();
    return v || undefined;
  } catch {
    return undefined;
  }
}

/** Records `revision -> commit` (Python skips this when the revision is the commit itself). */
export function writeRef(repoDir: string, revision: string, commit: string): void {
  if (revision === commit) return;
  if (readRef(repoDir, revision) === commit) return;
  const path = refPath(repoDir, revision);
  mkdirSync(dirname(path), { recursive: true });
  writeAtomic(path, commit);
}

export function writeAtomic(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** Creates the snapshot entry for `path` pointing at the blob, relative, as Python does. */
export function linkSnapshot(repoDir: string, commit: string, path: string, etag: string): string {
  const pointer = snapshotPath(repoDir, commit, path);
  const blob = blobPath(repoDir, etag);
  mkdirSync(dirname(pointer), { recursive: true });
  const target = relative(dirname(pointer), blob);
  const tmp = `${pointer}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    symlinkSync(target, tmp);
  } catch {
    copyFileSync(blob, tmp); // file systems without symlinks: a copy, like Python on Windows
  }
  renameSync(tmp, pointer);
  return pointer;
}

/** Writes the empty `.no_exist` marker for a path the hub reported missing at `commit`. */
export function markNoExist(repoDir: string, commit: string, path: string): void {
  const marker = noExistPath(repoDir, commit, path);
  mkdirSync(dirname(marker), { recursive: true });
  writeFileSync(marker, "");
}

export function exists(path: string): boolean {
  return existsSync(path);
}

/** True when `path` exists as a file or a (possibly dangling) link. */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

export function removeQuiet(path: string): void {
  rmSync(path, { force: true, recursive: true });
}

const CACHEDIR_TAG = `Signature: 8a477f597d28d172789f06886806bc55
# This file is a cache directory tag created by Hearth (same layout as huggingface_hub).
# For information about cache directory tags, see:
#\thttps://bford.info/cachedir/
`;

/** Marks the cache root for backup tools (`CACHEDIR.TAG`), as huggingface_hub does. */
export function ensureCachedirTag(cacheDir: string): void {
  const tag = join(cacheDir, "CACHEDIR.TAG");
  if (existsSync(tag)) return;
  try {
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(tag, CACHEDIR_TAG, { flag: "wx" });
  } catch {
    // another process wrote it, or the cache is read-only: either way not our problem
  }
}
