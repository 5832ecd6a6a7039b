import { HubError, isHubError } from "../errors.ts";
import type { ApiCreateRepoResponse } from "../types/api/index.ts";
import type { HubCallOptions, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, sendJson } from "../utils/http.ts";
import { toRepoId } from "../utils/repo-id.ts";

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
    if (opts.existOk && isHubError(err, "HEARTH_HUB_CONFLICT")) {
      return { url: `${ctx.endpoint}/${id.type === "model" ? "" : `${id.type}s/`}${id.name}`, repoId: id.name };
    }
    throw err;
  }
}
