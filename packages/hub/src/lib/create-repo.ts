import { HubError, isHubError } from "../errors.ts";
import type { ApiCreateRepoResponse } from "../types/api/index.ts";
import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, sendJson } from "../utils/http.ts";
import { toRepoId, urlPrefix } from "../utils/repo-id.ts";
import { repoInfo } from "./repo-info.ts";

export interface CreateRepoOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  private?: boolean;
  /** Succeed when the repo already exists (409). */
  existOk?: boolean;
  /** Spaces only: gradio, docker, static, streamlit. */
  spaceSdk?: string;
}

/**
 * Creates a repo: `POST /api/repos/create`, sending both `private` (old hubs) and
 * `visibility` (new hubs). Returns the repo URL.
 *
 * @example
 * const { url } = await createRepo({ repo: "me/my-model", private: true, existOk: true });
 */
export async function createRepo(opts: CreateRepoOptions): Promise<{ url: string; repoId: string }> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "createRepo" });
  const parts = id.name.split("/");
  const name = parts.pop() as string;
  const body: Record<string, unknown> = {
    name,
    organization: parts[0] ?? null,
    type: id.type,
    private: Boolean(opts.private),
    visibility: opts.private ? "private" : "public",
  };
  if (id.type === "space") {
    if (!opts.spaceSdk) {
      throw new HubError(
        "HEARTH_HUB_INVALID_ARGUMENT",
        "createRepo: spaceSdk is required for a Space (gradio, docker, static, streamlit)",
      );
    }
    body.sdk = opts.spaceSdk;
  }
  try {
    const { body: res } = await sendJson<ApiCreateRepoResponse>(ctx, "POST", `${ctx.endpoint}/api/repos/create`, body);
    return { url: res?.url ?? "", repoId: id.name };
  } catch (err) {
    const url = `${ctx.endpoint}/${urlPrefix(id.type)}${id.name}`;
    if (opts.existOk && isHubError(err, "HEARTH_HUB_CONFLICT")) return { url, repoId: id.name };
    // Like Python: a token that may not create repos can still use one that exists.
    if (opts.existOk && isHubError(err, "HEARTH_HUB_FORBIDDEN", "HEARTH_HUB_UNAUTHORIZED")) {
      const exists = await repoInfo({ ...opts, repo: id }).then(
        () => true,
        () => false,
      );
      if (exists) return { url, repoId: id.name };
    }
    throw err;
  }
}
