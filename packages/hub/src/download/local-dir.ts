/**
 * Downloads into a plain folder (`localDir`) instead of the cache, in huggingface_hub's
 * layout: the file at `<localDir>/<path>`, and beside it, under `.cache/huggingface/download/`,
 * `<path>.metadata` (three lines: commit, etag, unix time), `<path>.lock` and, while
 * downloading, `<path>.<etag>.incomplete`. The metadata lets a later run skip files whose
 * etag has not changed; without it, a local file is trusted when its sha256 equals the etag.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { sha256File } from "../utils/hash.ts";

export interface LocalPaths {
  file: string;
  metadata: string;
  lock: string;
  incomplete(etag: string): string;
}

export function localPaths(localDir: string, path: string): LocalPaths {
  const parts = path.split("/");
  const hfDir = join(localDir, ".cache", "huggingface");
  const base = join(hfDir, "download", ...parts);
  mkdirSync(dirname(base), { recursive: true });
  mkdirSync(dirname(join(localDir, ...parts)), { recursive: true });
  const gitignore = join(hfDir, ".gitignore");
  if (!existsSync(gitignore)) writeFileSync(gitignore, "*");
  return {
    file: join(localDir, ...parts),
    metadata: `${base}.metadata`,
    lock: `${base}.lock`,
    incomplete: (etag) => `${base}.${etag}.incomplete`,
  };
}

export interface LocalMetadata {
  commitHash: string;
  etag: string;
  timestamp: number;
}

/** The metadata, if present, well formed, and not older than the file (1 s slack, as Python). */
export function readLocalMetadata(paths: LocalPaths): LocalMetadata | undefined {
  try {
    const [commitHash, etag, ts] = readFileSync(paths.metadata, "utf8").split("\n");
    const timestamp = Number(ts);
    if (!commitHash || !etag || !Number.isFinite(timestamp)) return undefined;
    if (statSync(paths.file).mtimeMs / 1000 - 1 > timestamp) return undefined; // edited since
    return { commitHash, etag, timestamp };
  } catch {
    return undefined;
  }
}

export function writeLocalMetadata(paths: LocalPaths, commitHash: string, etag: string): void {
  const tmp = `${paths.metadata}.tmp-${process.pid}`;
  writeFileSync(tmp, `${commitHash}\n${etag}\n${Date.now() / 1000}\n`);
  renameSync(tmp, paths.metadata);
}

/** True when the local file can stand for `etag`: same etag in the metadata, or same sha256. */
export async function localFileMatches(paths: LocalPaths, etag: string): Promise<boolean> {
  if (!existsSync(paths.file)) return false;
  const meta = readLocalMetadata(paths);
  if (meta) return meta.etag === etag;
  return /^[0-9a-f]{64}$/.test(etag) && (await sha256File(paths.file)) === etag;
}

/** Copies a cached blob into place atomically. */
export function copyIntoPlace(src: string, paths: LocalPaths): void {
  const tmp = `${paths.file}.tmp-${process.pid}`;
  copyFileSync(src, tmp);
  renameSync(tmp, paths.file);
}
