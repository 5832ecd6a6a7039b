import type { HubCallOptions, RepoDesignation, RepoRefs, RepoType } from "../types/public.ts";
import { getJson, hubContext } from "../utils/http.ts";
import { toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface ListRepoRefsOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  includePullRequests?: boolean;
}

/**
 * Branches, tags and converts of a repo: `GET /api/{types}/{repo}/refs`.
 *
 * @example
 * const { branches, tags } = await listRepoRefs({ repo: "org/model" });
 */
export async function listRepoRefs(opts: ListRepoRefsOptions): Promise<RepoRefs> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts);
  const raw = await getJson<RepoRefs>(
    ctx,
    `${repoApiUrl(ctx.endpoint, id)}/refs${opts.includePullRequests ? "?include_prs=1" : ""}`,
  );
  return {
    branches: raw.branches ?? [],
    tags: raw.tags ?? [],
    converts: raw.converts ?? [],
    pullRequests: raw.pullRequests,
  };
}
