import { readdirSync, rmSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { hubCacheDir } from "../config.ts";
import { scanCacheDir } from "./scan-cache-dir.ts";

export interface PruneCacheOptions {
  cacheDir?: string;
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
}

export interface PruneResult {
  /** Revisions no ref points to, removed with their snapshot folders. */
  revisions: { repoId: string; repoType: string; commitHash: string }[];
  /** Blobs no remaining snapshot uses. */
  blobs: string[];
  freedBytes: number;
}

/**
 * Removes detached revisions (snapshots that no ref points to) and the blobs only they
 * used, like `hf cache prune`. Blobs touched in the last minute are kept: a download in
 * another process may be about to link them.
 *
 * @example
 * const { freedBytes } = pruneCache({ dryRun: true });
 */
export function pruneCache(opts: PruneCacheOptions = {}): PruneResult {
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const info = scanCacheDir({ cacheDir });
  const result: PruneResult = { revisions: [], blobs: [], freedBytes: 0 };
  for (const repo of info.repos) {
    const detached = repo.revisions.filter((r) => r.refs.length === 0);
    const kept = repo.revisions.filter((r) => r.refs.length > 0);
    const used = new Set(kept.flatMap((r) => r.files.map((f) => f.blobPath)));
    for (const r of detached) {
      result.revisions.push({ repoId: repo.repoId, repoType: repo.repoType, commitHash: r.commitHash });
      if (!opts.dryRun) rmSync(r.snapshotPath, { recursive: true, force: true });
    }
    const blobsDir = join(repo.repoPath, "blobs");
    let names: string[] = [];
    try {
      names = readdirSync(blobsDir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (name.endsWith(".incomplete")) continue;
      const blob = resolve(blobsDir, name);
      if (used.has(blob)) continue;
      const st = statSync(blob);
      if (Date.now() - st.mtimeMs < 60_000 && detached.every((r) => !r.files.some((f) => f.blobPath === blob)))
        continue;
      result.blobs.push(blob);
      result.freedBytes += st.size;
      if (!opts.dryRun) rmSync(blob, { force: true });
    }
  }
  return result;
}
