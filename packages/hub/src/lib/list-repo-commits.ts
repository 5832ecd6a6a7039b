import type { CommitSummary, HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext } from "../utils/http.ts";
import { paginate } from "../utils/pagination.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface ListRepoCommitsOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  revision?: string;
}

/**
 * Commit history, newest first: `GET /api/{types}/{repo}/commits/{rev}`, paginated.
 *
 * @example
 * for await (const c of listRepoCommits({ repo: "org/model" })) console.log(c.id, c.title);
 */
export async function* listRepoCommits(opts: ListRepoCommitsOptions): AsyncGenerator<CommitSummary> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts);
  yield* paginate<CommitSummary>(
    ctx,
    `${repoApiUrl(ctx.endpoint, id)}/commits/${encodeRevision(opts.revision ?? "main")}`,
  );
}
