import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, hubFetch } from "../utils/http.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface DeleteBranchOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  branch: string;
}

/**
 * Deletes a branch: `DELETE /api/{types}/{repo}/branch/{branch}`.
 *
 * @example
 * await deleteBranch({ repo: "me/model", branch: "dev" });
 */
export async function deleteBranch(opts: DeleteBranchOptions): Promise<void> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "deleteBranch" });
  const res = await hubFetch(ctx, `${repoApiUrl(ctx.endpoint, id)}/branch/${encodeRevision(opts.branch)}`, {
    method: "DELETE",
  });
  await res.body?.cancel();
}
