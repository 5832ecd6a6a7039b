import { checkRepoPath } from "../cache/layout.ts";
import { LfsUploader } from "../commit/lfs-upload.ts";
import { preupload } from "../commit/preupload.ts";
import { type AddContent, gitOid, toSource, type UploadSource } from "../commit/source.ts";
import { HubError } from "../errors.ts";
import type { ApiCommitLine, ApiCommitResponse } from "../types/api/index.ts";
import type { CommitInfo, HubCallOptions, ProgressListener, RepoDesignation, RepoType } from "../types/public.ts";
import { hubContext, hubFetch } from "../utils/http.ts";
import { combineProgress, ProgressBar } from "../utils/progress.ts";
import { encodeRepoPath, encodeRevision, toRepoId, urlPrefix } from "../utils/repo-id.ts";
import { timed } from "../utils/timing.ts";
import { getPathsInfo } from "./get-paths-info.ts";
import { repoApiUrl, repoInfo } from "./repo-info.ts";

/** Local files from this size on are hashed beside the preupload call (they are almost surely LFS). */
const EARLY_HASH_BYTES = 8 * 1024 * 1024;

/** Add or replace a file: bytes, a string, or `{ filePath }` for a local file. */
export interface CommitAdd {
  operation: "add";
  pathInRepo: string;
  content: AddContent;
}

/** Delete a file, or a folder and everything under it. */
export interface CommitDelete {
  operation: "delete";
  pathInRepo: string;
  isFolder?: boolean;
}

/** Copy a file already in the repo (LFS files are copied by oid, nothing is re-uploaded). */
export interface CommitCopy {
  operation: "copy";
  srcPathInRepo: string;
  pathInRepo: string;
  /** Revision to copy from; default the commit's revision. */
  srcRevision?: string;
}

export type CommitOperation = CommitAdd | CommitDelete | CommitCopy;

export interface CreateCommitOptions extends HubCallOptions {
  repo: RepoDesignation;
  repoType?: RepoType;
  operations: CommitOperation[];
  /** Commit title. */
  title: string;
  description?: string;
  /** Branch to commit to; default `main`. */
  revision?: string;
  /** Fail with 412 (HEARTH_HUB_PRECONDITION_FAILED) unless the branch head is this commit. */
  parentCommit?: string;
  createPr?: boolean;
  /** LFS transfers at once (default 4). */
  maxWorkers?: number;
  onProgress?: ProgressListener;
  progressBar?: boolean;
}

/**
 * Makes one commit from additions, deletions and copies, as huggingface_hub's
 * `create_commit`: preupload decides regular vs LFS per file; LFS objects go through the
 * batch API (basic or multipart) first; files whose remote oid already matches are skipped
 * (no commit at all when nothing changes); then one NDJSON commit request.
 *
 * @example
 * await createCommit({
 *   repo: "me/model",
 *   title: "Add weights",
 *   operations: [
 *     { operation: "add", pathInRepo: "model.safetensors", content: { filePath: "./model.safetensors" } },
 *     { operation: "delete", pathInRepo: "old.bin" },
 *   ],
 * });
 */
export async function createCommit(opts: CreateCommitOptions): Promise<CommitInfo> {
  const id = toRepoId(opts.repo, opts.repoType);
  const ctx = hubContext(opts, { requireToken: true, purpose: "createCommit" });
  const revision = opts.revision ?? "main";
  if (!opts.title?.trim()) throw new HubError("HEARTH_HUB_INVALID_ARGUMENT", "createCommit: 'title' must not be empty");
  if (opts.parentCommit !== undefined && !/^[0-9a-fA-F]{5,40}$/.test(opts.parentCommit)) {
    throw new HubError(
      "HEARTH_HUB_INVALID_ARGUMENT",
      `createCommit: parentCommit must be 5-40 hex chars, got '${opts.parentCommit}'`,
    );
  }
  const apiUrl = repoApiUrl(ctx.endpoint, id);
  const call = { endpoint: ctx.endpoint, accessToken: ctx.token, fetch: ctx.fetch, signal: opts.signal };

  // Last addition to a path wins, as in Python.
  const additions = new Map<string, UploadSource>();
  for (const op of opts.operations) {
    if (op.operation === "add")
      additions.set(checkRepoPath(op.pathInRepo, "pathInRepo"), toSource(op.content, op.pathInRepo));
  }
  const files = [...additions].map(([path, source]) => ({ path, source }));
  // The sha256 of a big local file is needed if the hub wants it as LFS (most likely): start
  // it now, beside the preupload round trip. Hashed once; the result is kept by the source.
  const early = files.find((f) => f.source.filePath && f.source.size >= EARLY_HASH_BYTES);
  early?.source.sha256().catch(() => {}); // awaited (and its error seen) in the loop below
  const modes = await timed("preupload", () => preupload(ctx, apiUrl, revision, files));

  // Each LFS file goes to the uploader as soon as it is hashed: while file N+1 is hashed, the
  // batch call and PUT of file N are under way.
  const bar = ProgressBar.maybe(`upload ${id.name}`, opts.progressBar);
  const uploader = new LfsUploader(
    ctx,
    `${ctx.endpoint}/${urlPrefix(id.type)}${id.name}.git/info/lfs/objects/batch`,
    revision,
    { concurrency: opts.maxWorkers, onProgress: combineProgress(opts.onProgress, bar?.listener) },
  );
  const lines: ApiCommitLine[] = [];
  let changes = 0;
  try {
    for (const f of files) {
      const mode = modes.get(f.path);
      if (!mode || mode.shouldIgnore) continue;
      if (mode.uploadMode === "lfs") {
        const oid = await timed("sha256", () => f.source.sha256(), { bytes: f.source.size, path: f.path });
        if (mode.remoteOid === oid) continue; // unchanged
        uploader.add({ path: f.path, oid, source: f.source });
        lines.push({ key: "lfsFile", value: { path: f.path, algo: "sha256", oid, size: f.source.size } });
      } else {
        const data = await f.source.bytes();
        if (mode.remoteOid === gitOid(data)) continue; // unchanged
        lines.push({
          key: "file",
          value: { path: f.path, content: Buffer.from(data).toString("base64"), encoding: "base64" },
        });
      }
      changes++;
    }
    await uploader.done();
  } finally {
    bar?.done();
  }
  for (const op of opts.operations) {
    if (op.operation === "delete") {
      const path = checkRepoPath(op.pathInRepo.replace(/\/+$/, ""), "pathInRepo");
      lines.push(
        op.isFolder ? { key: "deletedFolder", value: { path: `${path}/` } } : { key: "deletedFile", value: { path } },
      );
      changes++;
    } else if (op.operation === "copy") {
      lines.push(await copyLine(call, id, op, revision));
      changes++;
    }
  }

  if (changes === 0) {
    // Nothing to do: Python makes no commit and reports the current head.
    const info = await repoInfo({ ...call, repo: id, revision });
    const sha = info.sha ?? "";
    return {
      commitOid: sha,
      commitUrl: `${ctx.endpoint}/${urlPrefix(id.type)}${id.name}/commit/${sha}`,
      pullRequestUrl: null,
    };
  }

  const header: ApiCommitLine = {
    key: "header",
    value: {
      summary: opts.title,
      description: opts.description ?? "",
      ...(opts.parentCommit ? { parentCommit: opts.parentCommit } : {}),
    },
  };
  const body = `${[header, ...lines].map((l) => JSON.stringify(l)).join("\n")}\n`;
  const out = await timed("commit", async () => {
    const res = await hubFetch(
      ctx,
      `${apiUrl}/commit/${encodeRevision(revision)}${opts.createPr ? "?create_pr=1" : ""}`,
      { method: "POST", headers: { "content-type": "application/x-ndjson" }, body },
    );
    return (await res.json()) as ApiCommitResponse;
  });
  if (!out.commitOid) throw new HubError("HEARTH_HUB_BAD_RESPONSE", `createCommit: the hub's answer has no commitOid`);
  return { commitOid: out.commitOid, commitUrl: out.commitUrl, pullRequestUrl: out.pullRequestUrl ?? null };
}

/**
 * Python turns copies into ordinary lines: an LFS source becomes an `lfsFile` pointing at the
 * same oid (no bytes move), a regular source is downloaded and re-added as a `file`.
 */
async function copyLine(
  call: HubCallOptions,
  id: ReturnType<typeof toRepoId>,
  op: CommitCopy,
  revision: string,
): Promise<ApiCommitLine> {
  const src = checkRepoPath(op.srcPathInRepo, "srcPathInRepo");
  const dst = checkRepoPath(op.pathInRepo, "pathInRepo");
  const srcRevision = op.srcRevision ?? revision;
  const [info] = await getPathsInfo({ ...call, repo: id, paths: [src], revision: srcRevision });
  if (info?.type !== "file") {
    throw new HubError(
      "HEARTH_HUB_ENTRY_NOT_FOUND",
      `createCommit: copy source '${src}' does not exist at '${srcRevision}' in ${id.name}`,
    );
  }
  if (info.lfs) return { key: "lfsFile", value: { path: dst, algo: "sha256", oid: info.lfs.oid } };
  const ctx = hubContext(call);
  const url = `${ctx.endpoint}/${urlPrefix(id.type)}${id.name}/resolve/${encodeRevision(srcRevision)}/${encodeRepoPath(src)}`;
  const res = await hubFetch(ctx, url);
  const data = new Uint8Array(await res.arrayBuffer());
  return { key: "file", value: { path: dst, content: Buffer.from(data).toString("base64"), encoding: "base64" } };
}
