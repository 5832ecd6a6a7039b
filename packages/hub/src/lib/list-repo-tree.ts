import { checkRepoPath } from "../cache/layout.ts";
import type { ApiTreeEntry } from "../types/api/index.ts";
import type { HubCallOptions, RepoDesignation, RepoEntry, RepoType } from "../types/public.ts";
import { hubContext } from "../utils/http.ts";
import { paginate } from "../utils/pagination.ts";
import { encodeRevision, toRepoId } from "../utils/repo-id.ts";
import { repoApiUrl } from "./repo-info.ts";

export interface ListRepoTreeOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  /** Folder to list; default the root. */
  path?: string;
  revision?: string;
  recursive?: boolean;
  /** Add `lastCommit` to each entry (slower on the hub). */
  expand?: boolean;
}

export function toRepoEntry(e: ApiTreeEntry): RepoEntry {
  const out: RepoEntry = { type: e.type, path: e.path, oid: e.oid, size: e.size };
  if (e.lfs) out.lfs = e.lfs;
  if (e.lastCommit) out.lastCommit = e.lastCommit;
  return out;
}

/**
 * Files and folders of a repo: `GET /api/{types}/{repo}/tree/{rev}[/{path}]`, paginated.
 *
 * @example
 * for await (const e of listRepoTree({ repo: "org/model", recursive: true })) console.log(e.path, e.size);
 */
export async function* listRepoTree(opts: ListRepoTreeOptions): AsyncGenerator<RepoEntry> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts);
  let url = `${repoApiUrl(ctx.endpoint, id)}/tree/${encodeRevision(opts.revision ?? "main")}`;
  if (opts.path) url += `/${encodeURIComponent(checkRepoPath(opts.path.replace(/\/+$/, "")))}`;
  url += `?recursive=${Boolean(opts.recursive)}&expand=${Boolean(opts.expand)}`;
  for await (const e of paginate<ApiTreeEntry>(ctx, url)) yield toRepoEntry(e);
}
