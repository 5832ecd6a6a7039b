import { isHubError } from "../errors.ts";
import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, sendJson } from "../utils/http.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface CreateTagOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  tag: string;
  /** What to tag; default `main`. */
  revision?: string;
  message?: string;
  existOk?: boolean;
}

/**
 * Tags a revision: `POST /api/{types}/{repo}/tag/{revision}` with `{tag, message}`.
 *
 * @example
 * await createTag({ repo: "me/model", tag: "v1.0" });
 */
export async function createTag(opts: CreateTagOptions): Promise<void> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "createTag" });
  const body: Record<string, string> = { tag: opts.tag };
  if (opts.message) body.message = opts.message;
  try {
    await sendJson(ctx, "POST", `${repoApiUrl(ctx.endpoint, id)}/tag/${encodeRevision(opts.revision ?? "main")}`, body);
  } catch (err) {
    if (opts.existOk && isHubError(err, "HEARTH_HUB_CONFLICT")) return;
    throw err;
  }
}
