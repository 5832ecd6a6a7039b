import type { HubCallOptions, RepoInfo, RepoType } from "../types/public.ts";
import { hubContext } from "../utils/http.ts";
import { paginate } from "../utils/pagination.ts";
import { typePlural } from "../utils/repo-id.ts";
import { toRepoInfo } from "./repo-info.ts";

export interface ListReposOptions extends HubCallOptions {
  repoType?: RepoType;
  /** Substring of the repo id. */
  search?: string;
  /** Namespace (user or organisation). */
  author?: string;
  /** Stop after this many repos. */
  limit?: number;
  /** Page size asked of the hub (default 100). */
  pageSize?: number;
}

/**
 * Lists repos (`GET /api/{types}`), following `Link: rel="next"` pages lazily.
 *
 * @example
 * for await (const repo of listRepos({ author: "me" })) console.log(repo.id);
 */
export async function* listRepos(opts: ListReposOptions = {}): AsyncGenerator<RepoInfo> {
  const type = opts.repoType ?? "model";
  const ctx = hubContext(opts);
  const params = new URLSearchParams();
  if (opts.search) params.set("search", opts.search);
  if (opts.author) params.set("author", opts.author);
  params.set("limit", String(Math.min(opts.pageSize ?? 100, opts.limit ?? Number.POSITIVE_INFINITY)));
  let n = 0;
  for await (const raw of paginate<Record<string, unknown>>(ctx, `${ctx.endpoint}/api/${typePlural(type)}?${params}`)) {
    if (opts.limit !== undefined && n >= opts.limit) return;
    n++;
    yield toRepoInfo(raw, type);
  }
}
