import type { ApiTreeEntry } from "../types/api/index.ts";
import type { HubCallOptions, RepoDesignation, RepoEntry, RepoType } from "../types/public.ts";
import { hubContext, hubFetch } from "../utils/http.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { toRepoEntry } from "./list-repo-tree.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface GetPathsInfoOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  paths: string[];
  revision?: string;
  /** Add `lastCommit`. */
  expand?: boolean;
}

/**
 * Info on given paths: `POST /api/{types}/{repo}/paths-info/{rev}` (form-encoded, as Python
 * sends it). Paths that do not exist are left out of the answer.
 *
 * @example
 * const [cfg] = await getPathsInfo({ repo: "org/model", paths: ["config.json"] });
 */
export async function getPathsInfo(opts: GetPathsInfoOptions): Promise<RepoEntry[]> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts);
  const form = new URLSearchParams();
  for (const p of opts.paths) form.append("paths", p);
  form.set("expand", String(Boolean(opts.expand)));
  const res = await hubFetch(
    ctx,
    `${repoApiUrl(ctx.endpoint, id)}/paths-info/${encodeRevision(opts.revision ?? "main")}`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: form.toString(),
    },
  );
  return ((await res.json()) as ApiTreeEntry[]).map(toRepoEntry);
}
