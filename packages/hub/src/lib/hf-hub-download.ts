import { existsSync, mkdirSync } from "node:fs";
import { rename } from "node:fs/promises";
import { dirname } from "node:path";
import {
  blobPath,
  CACHED_NO_EXIST,
  checkRepoPath,
  ensureCachedirTag,
  exists,
  linkSnapshot,
  lockPath,
  markNoExist,
  repoCacheDir,
  snapshotPath,
  writeRef,
} from "../cache/layout.ts";
import { hubCacheDir, isOffline } from "../config.ts";
import { fetchToFile } from "../download/fetch-to-file.ts";
import {
  copyIntoPlace,
  localFileMatches,
  localPaths,
  readLocalMetadata,
  writeLocalMetadata,
} from "../download/local-dir.ts";
import { HubError, isHubError } from "../errors.ts";
import type { HubCallOptions, ProgressListener, RepoDesignation, RepoType } from "../types/public.ts";
import { acquireLock } from "../utils/file-lock.ts";
import { hubContext } from "../utils/http.ts";
import { combineProgress, ProgressBar } from "../utils/progress.ts";
import { COMMIT_HASH, toRepoId } from "../utils/repo-id.ts";
import { timed } from "../utils/timing.ts";
import { type FileMetadata, getHfFileMetadata } from "./get-hf-file-metadata.ts";
import { hfHubUrl } from "./hf-hub-url.ts";
import { tryToLoadFromCache } from "./try-to-load-from-cache.ts";

export interface HfHubDownloadOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  /** Path of the file inside the repo. */
  path: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  /** Default `HF_HUB_CACHE` / `$HF_HOME/hub`. */
  cacheDir?: string;
  /** Never touch the network (also forced by `HF_HUB_OFFLINE=1`). */
  localFilesOnly?: boolean;
  /** Download again even when the blob is cached. */
  forceDownload?: boolean;
  /** Byte progress of this file. */
  onProgress?: ProgressListener;
  /** Draw a bar on a TTY (default: when stderr is a TTY and bars are not disabled). */
  progressBar?: boolean;
  /**
   * Put the file at `<localDir>/<path>` instead of the cache (Python's `local_dir`), with
   * metadata under `<localDir>/.cache/huggingface/download/`; returns that path.
   */
  localDir?: string;
}

/**
 * Downloads one file into the shared HF cache and returns the path of its snapshot entry
 * (`.../snapshots/<commit>/<path>`, a relative symlink to `blobs/<etag>`), following
 * `huggingface_hub.hf_hub_download`: cache hit without network for a commit hash, HEAD for
 * metadata, a per-blob lock so concurrent processes never write the same blob, resume of
 * `.incomplete` files with Range, sha256 check of LFS files, `.no_exist` markers, offline mode.
 *
 * @example
 * const file = await hfHubDownload({ repo: "org/model", path: "config.json" });
 */
export async function hfHubDownload(opts: HfHubDownloadOptions): Promise<string> {
  const id = toRepoId(opts.repo, opts.repoType);
  const path = checkRepoPath(opts.path);
  const revision = opts.revision ?? "main";
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  const repoDir = repoCacheDir(cacheDir, id);

  if (opts.localDir !== undefined) return toLocalDir(opts, id, path, revision, cacheDir, opts.localDir);

  // 1. A commit hash already in the cache: no network at all.
  if (COMMIT_HASH.test(revision) && !opts.forceDownload) {
    const pointer = snapshotPath(repoDir, revision, path);
    if (exists(pointer)) return pointer;
  }
  const offline = opts.localFilesOnly || isOffline();
  if (offline) return fromCacheOrThrow(opts, id.name, path, revision, cacheDir, "offline");

  const ctx = hubContext(opts);
  const url = hfHubUrl({ repo: id, path, revision, endpoint: ctx.endpoint });
  let meta: FileMetadata;
  try {
    meta = await timed("download-head", () =>
      getHfFileMetadata({ ...opts, url, endpoint: ctx.endpoint, accessToken: ctx.token ?? false }),
    );
  } catch (err) {
    if (isHubError(err, "HEARTH_HUB_ENTRY_NOT_FOUND")) {
      const commit = err.repoCommit;
      if (commit && COMMIT_HASH.test(commit)) {
        markNoExist(repoDir, commit, path);
        writeRef(repoDir, revision, commit);
      }
      throw err;
    }
    if (isHubError(err, "HEARTH_HUB_REVISION_NOT_FOUND")) throw err;
    // Network trouble, 5xx, auth or missing repo: serve the cache if it has the file.
    const cached = tryToLoadFromCache({ repo: id, path, revision, cacheDir });
    if (typeof cached === "string") return cached;
    throw err;
  }

  writeRef(repoDir, revision, meta.commitHash);
  const pointer = snapshotPath(repoDir, meta.commitHash, path);
  const blob = blobPath(repoDir, meta.etag);
  if (!opts.forceDownload) {
    if (exists(pointer)) return pointer;
    if (exists(blob)) return linkSnapshot(repoDir, meta.commitHash, path, meta.etag);
  }

  ensureCachedirTag(cacheDir);
  mkdirSync(dirname(blob), { recursive: true });
  const release = await timed("download-lock", () => acquireLock(lockPath(cacheDir, id, meta.etag)));
  try {
    // Another process may have finished this blob while we waited for the lock.
    if (opts.forceDownload || !exists(blob)) {
      const bar = ProgressBar.maybe(`${path}`, opts.progressBar);
      const sameHost = new URL(meta.location).host === new URL(url).host;
      try {
        await fetchToFile({
          ctx,
          url: meta.location,
          auth: sameHost,
          dest: `${blob}.incomplete`,
          expectedSize: meta.size,
          etag: meta.etag,
          path,
          onProgress: combineProgress(opts.onProgress, bar?.listener),
        });
      } finally {
        bar?.done();
      }
      await timed("download-rename", () => rename(`${blob}.incomplete`, blob));
    }
  } finally {
    release();
  }
  return linkSnapshot(repoDir, meta.commitHash, path, meta.etag);
}

/** The `localDir` flavour, as huggingface_hub's `_hf_hub_download_to_local_dir`. */
async function toLocalDir(
  opts: HfHubDownloadOptions,
  id: ReturnType<typeof toRepoId>,
  path: string,
  revision: string,
  cacheDir: string,
  localDir: string,
): Promise<string> {
  const paths = localPaths(localDir, path);
  const meta = readLocalMetadata(paths);
  // A commit hash the local copy was downloaded at: no network.
  if (!opts.forceDownload && COMMIT_HASH.test(revision) && meta?.commitHash === revision) return paths.file;
  if (opts.localFilesOnly || isOffline()) {
    if (existsSync(paths.file)) return paths.file;
    throw new HubError(
      "HEARTH_HUB_OFFLINE_NOT_CACHED",
      `hfHubDownload: '${path}' is not in ${localDir} and offline mode forbids downloading it`,
    );
  }
  const ctx = hubContext(opts);
  const url = hfHubUrl({ repo: id, path, revision, endpoint: ctx.endpoint });
  let remote: FileMetadata;
  try {
    remote = await getHfFileMetadata({ ...opts, url, endpoint: ctx.endpoint, accessToken: ctx.token ?? false });
  } catch (err) {
    // Like Python: an unreachable hub still lets you use what is on disk.
    if (isHubError(err, "HEARTH_HUB_NETWORK") && existsSync(paths.file)) return paths.file;
    throw err;
  }
  if (!opts.forceDownload && (await localFileMatches(paths, remote.etag))) {
    writeLocalMetadata(paths, remote.commitHash, remote.etag);
    return paths.file;
  }
  const release = await acquireLock(paths.lock);
  try {
    const cached = tryToLoadFromCache({ repo: id, path, revision: remote.commitHash, cacheDir });
    if (!opts.forceDownload && typeof cached === "string") copyIntoPlace(cached, paths);
    else {
      const bar = ProgressBar.maybe(path, opts.progressBar);
      const incomplete = paths.incomplete(remote.etag);
      try {
        await fetchToFile({
          ctx,
          url: remote.location,
          auth: new URL(remote.location).host === new URL(url).host,
          dest: incomplete,
          expectedSize: remote.size,
          etag: remote.etag,
          path,
          onProgress: combineProgress(opts.onProgress, bar?.listener),
        });
      } finally {
        bar?.done();
      }
      await rename(incomplete, paths.file);
    }
    writeLocalMetadata(paths, remote.commitHash, remote.etag);
  } finally {
    release();
  }
  return paths.file;
}

function fromCacheOrThrow(
  opts: HfHubDownloadOptions,
  name: string,
  path: string,
  revision: string,
  cacheDir: string,
  why: string,
): string {
  const hit = tryToLoadFromCache({ repo: toRepoId(opts.repo, opts.repoType), path, revision, cacheDir });
  if (typeof hit === "string") return hit;
  if (hit === CACHED_NO_EXIST) {
    throw new HubError(
      "HEARTH_HUB_ENTRY_NOT_FOUND",
      `hfHubDownload: '${path}' does not exist in ${name} at '${revision}' (recorded in the cache's .no_exist; ${why})`,
    );
  }
  throw new HubError(
    "HEARTH_HUB_OFFLINE_NOT_CACHED",
    `hfHubDownload: '${path}' of ${name} at '${revision}' is not in the cache ${cacheDir}, and ${why} mode forbids downloading it; unset HF_HUB_OFFLINE / localFilesOnly to fetch it`,
  );
}
