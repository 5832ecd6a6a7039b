import {
  CACHED_NO_EXIST,
  checkRepoPath,
  exists,
  noExistPath,
  readRef,
  repoCacheDir,
  snapshotPath,
} from "../cache/layout.ts";
import { hubCacheDir } from "../config.ts";
import type { RepoDesignation, RepoType } from "../types/public.ts";
import { COMMIT_HASH, toRepoId } from "../utils/repo-id.ts";

export interface TryToLoadFromCacheOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  path: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  /** Default `HF_HUB_CACHE` / `$HF_HOME/hub`. */
  cacheDir?: string;
}

/**
 * Looks a file up in the cache without any network call, like Python's
 * `try_to_load_from_cache`: the cached path, {@link CACHED_NO_EXIST} when the hub is known
 * to lack it at that revision, or undefined when the cache cannot tell.
 *
 * @example
 * const hit = tryToLoadFromCache({ repo: "org/model", path: "config.json" });
 * if (typeof hit === "string") console.log(readFileSync(hit, "utf8"));
 */
export function tryToLoadFromCache(opts: TryToLoadFromCacheOptions): string | typeof CACHED_NO_EXIST | undefined {
  const id = toRepoId(opts.repo, opts.repoType);
  const path = checkRepoPath(opts.path);
  const repoDir = repoCacheDir(opts.cacheDir ?? hubCacheDir(), id);
  if (!exists(repoDir)) return undefined;
  const revision = opts.revision ?? "main";
  const commit = COMMIT_HASH.test(revision) ? revision : readRef(repoDir, revision);
  if (!commit) return undefined;
  const pointer = snapshotPath(repoDir, commit, path);
  if (exists(pointer)) return pointer;
  if (exists(noExistPath(repoDir, commit, path))) return CACHED_NO_EXIST;
  return undefined;
}
