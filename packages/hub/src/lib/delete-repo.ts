import { isHubError } from "../errors.ts";
import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, sendJson } from "../utils/http.ts";
import { toRepoId } from "../utils/repo-id.ts";

export interface DeleteRepoOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  /** Succeed when the repo does not exist. */
  missingOk?: boolean;
}

/**
 * Deletes a repo: `DELETE /api/repos/delete`. Irreversible.
 *
 * @example
 * await deleteRepo({ repo: "me/old-model", missingOk: true });
 */
export async function deleteRepo(opts: DeleteRepoOptions): Promise<void> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "deleteRepo" });
  const parts = id.name.split("/");
  const name = parts.pop() as string;
  try {
    await sendJson(ctx, "DELETE", `${ctx.endpoint}/api/repos/delete`, {
      name,
      organization: parts[0] ?? null,
      type: id.type,
    });
  } catch (err) {
    if (opts.missingOk && isHubError(err, "HEARTH_HUB_REPO_NOT_FOUND")) return;
    throw err;
  }
}
