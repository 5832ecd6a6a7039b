/** Reads a cache folder into repos, revisions and files (shared by scan and prune). */
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import type { RepoType } from "../types/public.ts";

export interface CachedFile {
  /** Path inside the repo. */
  path: string;
  /** Absolute path of the blob it points to. */
  blobPath: string;
  size: number;
}

export interface CachedRevision {
  commitHash: string;
  snapshotPath: string;
  refs: string[];
  files: CachedFile[];
  /** Bytes of the distinct blobs this revision uses. */
  sizeOnDisk: number;
  lastModified: Date;
}

export interface CachedRepo {
  repoId: string;
  repoType: RepoType;
  repoPath: string;
  /** Bytes of all blobs in the repo folder. */
  sizeOnDisk: number;
  nbFiles: number;
  refs: Record<string, string>;
  revisions: CachedRevision[];
  lastAccessed: Date;
  lastModified: Date;
}

export interface CacheInfo {
  cacheDir: string;
  repos: CachedRepo[];
  sizeOnDisk: number;
  warnings: string[];
}

const FOLDER = /^(models|datasets|spaces)--(.+)$/;

export function readCache(cacheDir: string): CacheInfo {
  const repos: CachedRepo[] = [];
  const warnings: string[] = [];
  for (const name of readdirSync(cacheDir).sort()) {
    const repoPath = join(cacheDir, name);
    if (name === ".locks" || name === "CACHEDIR.TAG" || !statSync(repoPath).isDirectory()) continue;
    const m = FOLDER.exec(name);
    if (!m) {
      warnings.push(`${repoPath}: not a repo folder (expected models--, datasets-- or spaces--)`);
      continue;
    }
    try {
      repos.push(readRepo(repoPath, m[1].slice(0, -1) as RepoType, m[2].split("--").join("/")));
    } catch (err) {
      warnings.push(`${repoPath}: ${(err as Error).message}`);
    }
  }
  return { cacheDir, repos, sizeOnDisk: repos.reduce((a, r) => a + r.sizeOnDisk, 0), warnings };
}

function readRepo(repoPath: string, repoType: RepoType, repoId: string): CachedRepo {
  const blobsDir = join(repoPath, "blobs");
  const blobStats = new Map<string, { size: number; atimeMs: number; mtimeMs: number }>();
  if (existsSync(blobsDir)) {
    for (const b of readdirSync(blobsDir)) {
      if (b.endsWith(".incomplete")) continue;
      const st = statSync(join(blobsDir, b));
      blobStats.set(resolve(blobsDir, b), { size: st.size, atimeMs: st.atimeMs, mtimeMs: st.mtimeMs });
    }
  }
  const refs: Record<string, string> = {};
  const refsDir = join(repoPath, "refs");
  if (existsSync(refsDir)) {
    for (const rel of walkFiles(refsDir)) refs[rel] = readFileSync(join(refsDir, rel), "utf8").trim();
  }
  const revisions: CachedRevision[] = [];
  const snapsDir = join(repoPath, "snapshots");
  if (existsSync(snapsDir)) {
    for (const commit of readdirSync(snapsDir).sort()) {
      const snapshotPath = join(snapsDir, commit);
      const files: CachedFile[] = [];
      const seen = new Set<string>();
      let size = 0;
      let lastModified = 0;
      for (const rel of walkFiles(snapshotPath)) {
        const full = join(snapshotPath, rel);
        const st = lstatSync(full);
        const blob = st.isSymbolicLink() ? resolve(join(full, ".."), readlinkSync(full)) : full;
        const bs = blobStats.get(blob) ?? (existsSync(blob) ? statSync(blob) : undefined);
        if (!bs) continue; // dangling link
        files.push({ path: rel, blobPath: blob, size: bs.size });
        if (!seen.has(blob)) {
          seen.add(blob);
          size += bs.size;
        }
        lastModified = Math.max(lastModified, bs.mtimeMs);
      }
      revisions.push({
        commitHash: commit,
        snapshotPath,
        refs: Object.keys(refs).filter((r) => refs[r] === commit),
        files,
        sizeOnDisk: size,
        lastModified: new Date(lastModified),
      });
    }
  }
  let total = 0;
  let atime = 0;
  let mtime = 0;
  for (const s of blobStats.values()) {
    total += s.size;
    atime = Math.max(atime, s.atimeMs);
    mtime = Math.max(mtime, s.mtimeMs);
  }
  return {
    repoId,
    repoType,
    repoPath,
    sizeOnDisk: total,
    nbFiles: blobStats.size,
    refs,
    revisions,
    lastAccessed: new Date(atime),
    lastModified: new Date(mtime),
  };
}

/** Relative paths (with `/`) of files and links under `dir`. */
export function walkFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    if (d.isDirectory()) out.push(...walkFiles(join(dir, d.name), rel));
    else out.push(rel);
  }
  return out.sort();
}
