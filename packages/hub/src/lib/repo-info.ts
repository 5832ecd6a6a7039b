import type { HubCallOptions, RepoDesignation, RepoInfo, RepoType } from "../types/public.ts";
import { getJson, hubContext } from "../utils/http.ts";
import { encodeRevision, type RepoId, toRepoId, typePlural } from "../utils/repo-id.ts";

export interface RepoInfoOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  /** Branch, tag or commit; default: the default branch. */
  revision?: string;
  /** Ask for sizes and LFS info of every sibling (`blobs=true`). */
  filesMetadata?: boolean;
}

/** Turns a wire repo-info object into {@link RepoInfo}. */
export function toRepoInfo(raw: Record<string, unknown>, type: RepoType): RepoInfo {
  return {
    id: String(raw.id ?? raw.modelId ?? ""),
    type,
    sha: raw.sha as string | undefined,
    private: raw.private as boolean | undefined,
    gated: raw.gated as RepoInfo["gated"],
    disabled: raw.disabled as boolean | undefined,
    lastModified: raw.lastModified as string | undefined,
    createdAt: raw.createdAt as string | undefined,
    author: raw.author as string | undefined,
    tags: raw.tags as string[] | undefined,
    downloads: raw.downloads as number | undefined,
    likes: raw.likes as number | undefined,
    siblings: raw.siblings as RepoInfo["siblings"],
    raw,
  };
}

export function repoApiUrl(endpoint: string, id: RepoId): string {
  return `${endpoint}/api/${typePlural(id.type)}/${id.name}`;
}

/**
 * Repo metadata: `GET /api/{types}/{repo}[/revision/{rev}]`; `sha` is the commit of the revision.
 *
 * @example
 * const info = await repoInfo({ repo: "org/model" });
 * console.log(info.sha, info.siblings?.map((s) => s.rfilename));
 */
export async function repoInfo(opts: RepoInfoOptions): Promise<RepoInfo> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts);
  let url = repoApiUrl(ctx.endpoint, id);
  if (opts.revision) url += `/revision/${encodeRevision(opts.revision)}`;
  if (opts.filesMetadata) url += "?blobs=true";
  return toRepoInfo(await getJson<Record<string, unknown>>(ctx, url), id.type);
}
