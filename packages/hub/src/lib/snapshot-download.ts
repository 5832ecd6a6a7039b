import { existsSync, mkdirSync } from "node:fs";
import { readRef, repoCacheDir, snapshotDir, writeRef } from "../cache/layout.ts";
import { hubCacheDir, isOffline } from "../config.ts";
import { HubError, isHubError } from "../errors.ts";
import type { HubCallOptions, ProgressListener, RepoDesignation, RepoEntry, RepoType } from "../types/public.ts";
import { hubContext } from "../utils/http.ts";
import { filterPaths } from "../utils/patterns.ts";
import { mapPool } from "../utils/pool.ts";
import { combineProgress, ProgressBar } from "../utils/progress.ts";
import { COMMIT_HASH, toRepoId } from "../utils/repo-id.ts";
import { hfHubDownload } from "./hf-hub-download.ts";
import { listRepoTree } from "./list-repo-tree.ts";
import { repoInfo } from "./repo-info.ts";

export interface SnapshotDownloadOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  revision?: string;
  cacheDir?: string;
  /** Keep only paths matching one of these fnmatch patterns (`*` crosses `/`; `dir/` = all under dir). */
  allowPatterns?: string | string[];
  /** Drop paths matching any of these. */
  ignorePatterns?: string | string[];
  /** Files downloaded at once (default 8, as Python's max_workers). */
  maxWorkers?: number;
  localFilesOnly?: boolean;
  forceDownload?: boolean;
  onProgress?: ProgressListener;
  progressBar?: boolean;
}

/**
 * Downloads every file of a revision (filtered by patterns) into the cache, in parallel, and
 * returns the snapshot folder `.../snapshots/<commit>`. Offline, returns the cached snapshot
 * of the revision if there is one.
 *
 * @example
 * const dir = await snapshotDownload({ repo: "org/model", allowPatterns: ["*.json", "*.safetensors"] });
 */
export async function snapshotDownload(opts: SnapshotDownloadOptions): Promise<string> {
  const id = toRepoId(opts.repo, opts.repoType);
  const revision = opts.revision ?? "main";
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const repoDir = repoCacheDir(cacheDir, id);
  const offline = opts.localFilesOnly || isOffline();

  const fromCache = (why: string, cause?: unknown): string => {
    const commit = COMMIT_HASH.test(revision) ? revision : readRef(repoDir, revision);
    if (commit && existsSync(snapshotDir(repoDir, commit))) return snapshotDir(repoDir, commit);
    throw new HubError(
      "HEARTH_HUB_OFFLINE_NOT_CACHED",
      `snapshotDownload: ${id.name} at '${revision}' is not in the cache ${cacheDir} and ${why}`,
      {},
      { cause },
    );
  };
  if (offline) return fromCache("offline mode (HF_HUB_OFFLINE / localFilesOnly) forbids downloading it");

  const ctx = hubContext(opts);
  const call = {
    endpoint: ctx.endpoint,
    accessToken: ctx.token ?? (false as const),
    fetch: ctx.fetch,
    signal: opts.signal,
  };
  let commit: string;
  let files: RepoEntry[] = [];
  try {
    commit = COMMIT_HASH.test(revision) ? revision : ((await repoInfo({ ...call, repo: id, revision })).sha ?? "");
    if (!COMMIT_HASH.test(commit)) {
      throw new HubError("HEARTH_HUB_BAD_RESPONSE", `snapshotDownload: repo info of ${id.name} has no 40-hex 'sha'`);
    }
    for await (const e of listRepoTree({ ...call, repo: id, revision: commit, recursive: true })) {
      if (e.type === "file") files.push(e);
    }
  } catch (err) {
    if (isHubError(err, "HEARTH_HUB_NETWORK") || (isHubError(err) && (err.status ?? 0) >= 500)) {
      return fromCache("the hub cannot be reached", err);
    }
    throw err;
  }
  writeRef(repoDir, revision, commit);
  files = filterPaths(files, opts, (e) => e.path);
  const bar = ProgressBar.maybe(`${id.name}`, opts.progressBar);
  const onProgress = combineProgress(opts.onProgress, bar?.listener);
  // Prime the bar with every file's size so the total is right from the start.
  for (const f of files) onProgress?.({ path: f.path, loaded: 0, total: f.lfs?.size ?? f.size });
  try {
    await mapPool(files, opts.maxWorkers ?? 8, async (f) => {
      await hfHubDownload({
        ...call,
        repo: id,
        path: f.path,
        revision: commit,
        cacheDir,
        forceDownload: opts.forceDownload,
        progressBar: false,
        onProgress,
      });
      const size = f.lfs?.size ?? f.size;
      onProgress?.({ path: f.path, loaded: size, total: size }); // cache hits report nothing on their own
    });
  } finally {
    bar?.done();
  }
  mkdirSync(snapshotDir(repoDir, commit), { recursive: true }); // an empty selection still has a folder
  return snapshotDir(repoDir, commit);
}
