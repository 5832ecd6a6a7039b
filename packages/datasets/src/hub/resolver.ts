/**
 * How `loadDataset("org/name")` reaches a hub dataset repository. The hub client lives in
 * `@hearth/hub`; this package only needs the two calls below, so any client (or a plain folder
 * of repositories) can serve it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { AsyncBuffer } from "hyparquet";
import { fail } from "../errors.ts";
import { listFiles } from "../loaders/data-files.ts";

/** Lists and fetches files of a dataset repository. */
export interface HubResolver {
  /** Repo-relative paths of every file at `revision`. */
  listFiles(repoId: string, options: { revision?: string }): Promise<string[]>;
  /** A local path holding the file (downloaded into the cache when needed). */
  downloadFile(repoId: string, path: string, options: { revision?: string; cacheDir?: string }): Promise<string>;
  /** Byte ranges of a remote file (HTTP Range), so streaming reads Parquet without downloading it. */
  openFile?(repoId: string, path: string, options: { revision?: string }): Promise<AsyncBuffer>;
}

/** A resolver over a folder that holds repositories as `<root>/<org>/<name>/` (e.g. a snapshot mirror). */
export function localFolderResolver(root: string): HubResolver {
  const repoDir = (repoId: string) => {
    const dir = join(root, ...repoId.split("/"));
    if (!existsSync(dir))
      throw fail("HEARTH_DATASETS_FILE_NOT_FOUND", `localFolderResolver: no repository '${repoId}' under '${root}'`);
    return dir;
  };
  return {
    async listFiles(repoId) {
      return listFiles(repoDir(repoId));
    },
    async downloadFile(repoId, path) {
      return join(repoDir(repoId), ...path.split("/"));
    },
  };
}

let defaultResolver: HubResolver | null = null;

/** Sets the resolver `loadDataset` uses for repo ids when none is passed (e.g. one from `@hearth/hub`). */
export function setDefaultHubResolver(resolver: HubResolver | null): void {
  defaultResolver = resolver;
}

/**
 * The resolver in effect: the one passed, else the default set with {@link setDefaultHubResolver},
 * else a folder of repositories named by `HEARTH_DATASETS_HUB_DIR`, else `fallback` (the hub client).
 */
export function requireResolver(resolver: HubResolver | undefined, fallback: () => HubResolver): HubResolver {
  return (
    resolver ??
    defaultResolver ??
    (process.env.HEARTH_DATASETS_HUB_DIR ? localFolderResolver(process.env.HEARTH_DATASETS_HUB_DIR) : fallback())
  );
}
