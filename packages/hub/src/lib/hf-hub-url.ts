import { hubEndpoint } from "../config.ts";
import type { RepoDesignation, RepoType } from "../types/public.ts";
import { encodeRepoPath, encodeRevision, toRepoId, urlPrefix } from "../utils/repo-id.ts";

export interface HfHubUrlOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  /** Path of the file inside the repo. */
  path: string;
  /** Branch, tag or commit; default `main`. */
  revision?: string;
  endpoint?: string;
}

/**
 * URL of a file: `{endpoint}/{prefix}{repo}/resolve/{revision}/{path}`, the revision encoded
 * with nothing safe (so `refs/pr/1` becomes `refs%2Fpr%2F1`), the path keeping its `/`.
 *
 * @example
 * hfHubUrl({ repo: "org/model", path: "config.json" });
 * // "https://huggingface.co/org/model/resolve/main/config.json"
 */
export function hfHubUrl(opts: HfHubUrlOptions): string {
  const id = toRepoId(opts.repo, opts.repoType);
  const endpoint = (opts.endpoint ?? hubEndpoint()).replace(/\/+$/, "");
  return `${endpoint}/${urlPrefix(id.type)}${id.name}/resolve/${encodeRevision(opts.revision ?? "main")}/${encodeRepoPath(opts.path)}`;
}
