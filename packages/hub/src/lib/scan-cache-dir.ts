import { existsSync } from "node:fs";
import { type CacheInfo, readCache } from "../cache/scan.ts";
import { hubCacheDir } from "../config.ts";
import { HubError } from "../errors.ts";

export interface ScanCacheDirOptions {
  /** Default `HF_HUB_CACHE` / `$HF_HOME/hub`. */
  cacheDir?: string;
}

/**
 * Lists what the cache holds (repos, revisions, refs, sizes), as Python's `scan_cache_dir`.
 *
 * @example
 * const info = scanCacheDir();
 * for (const r of info.repos) console.log(r.repoId, r.sizeOnDisk);
 */
export function scanCacheDir(opts: ScanCacheDirOptions = {}): CacheInfo {
  const cacheDir = opts.cacheDir ?? hubCacheDir();
  if (!existsSync(cacheDir)) {
    throw new HubError("HEARTH_HUB_CACHE_NOT_FOUND", `scanCacheDir: cache directory ${cacheDir} does not exist`);
  }
  return readCache(cacheDir);
}
