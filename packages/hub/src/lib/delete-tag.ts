import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, hubFetch } from "../utils/http.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface DeleteTagOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  tag: string;
}

/**
 * Deletes a tag: `DELETE /api/{types}/{repo}/tag/{tag}`.
 *
 * @example
 * await deleteTag({ repo: "me/model", tag: "v1.0" });
 */
export async function deleteTag(opts: DeleteTagOptions): Promise<void> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "deleteTag" });
  const res = await hubFetch(ctx, `${repoApiUrl(ctx.endpoint, id)}/tag/${encodeRevision(opts.tag)}`, {
    method: "DELETE",
  });
  await res.body?.cancel();
}
