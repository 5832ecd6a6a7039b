import { isHubError } from "../errors.ts";
import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, sendJson } from "../utils/http.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface CreateBranchOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  branch: string;
  /** Branch, tag or commit to start from; default the default branch. */
  revision?: string;
  /** Succeed when the branch exists (409). */
  existOk?: boolean;
}

/**
 * Creates a branch: `POST /api/{types}/{repo}/branch/{branch}`.
 *
 * @example
 * await createBranch({ repo: "me/model", branch: "dev" });
 */
export async function createBranch(opts: CreateBranchOptions): Promise<void> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "createBranch" });
  const body = opts.revision ? { startingPoint: opts.revision } : {};
  try {
    await sendJson(ctx, "POST", `${repoApiUrl(ctx.endpoint, id)}/branch/${encodeRevision(opts.branch)}`, body);
  } catch (err) {
    if (opts.existOk && isHubError(err, "HEARTH_HUB_CONFLICT")) return;
    throw err;
  }
}
