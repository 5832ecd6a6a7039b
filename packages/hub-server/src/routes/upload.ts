/** preupload, NDJSON commit and validate-yaml (hub-api.md §6.2, §6.4). */
import type { FastifyInstance } from "fastify";
import { hubError } from "../errors.ts";
import { validateCardYaml } from "../repos/card.ts";
import { isIgnored, isLfsTracked } from "../repos/gitattributes.ts";
import { checkRepoPath, parseBool, urlPrefix } from "../repos/names.ts";
import { type CommitHeader, type CommitOp, RepoService } from "../repos/service.ts";
import { isSha256 } from "../storage/blob-store.ts";
import { type RepoParams, repoParams } from "./schemas.ts";
import { writableRepo } from "./writable-repo.ts";

const str = (v: unknown): v is string => typeof v === "string";

/** Parses the commit body (NDJSON, or the legacy JSON object) into a header and operations. */
export function parseCommitBody(body: unknown): { header: CommitHeader; ops: CommitOp[] } {
  let lines: Array<{ key?: unknown; value?: unknown }>;
  if (typeof body === "string") {
    lines = [];
    body.split("\n").forEach((text, i) => {
      if (!text.trim()) return;
      try {
        const v = JSON.parse(text) as unknown;
        if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
        lines.push(v as { key?: unknown; value?: unknown });
      } catch (e) {
        throw hubError(
          "HEARTH_HUBSERVER_BAD_NDJSON",
          `commit: line ${i + 1} is not a JSON object (${(e as Error).message}): ${text.slice(0, 80)}`,
        );
      }
    });
  } else if (body && typeof body === "object" && "summary" in body) {
    const b = body as {
      summary?: unknown;
      description?: unknown;
      files?: unknown[];
      lfsFiles?: unknown[];
      deletedFiles?: unknown[];
    };
    lines = [
      { key: "header", value: { summary: b.summary, description: b.description } },
      ...(b.files ?? []).map((value) => ({ key: "file", value })),
      ...(b.lfsFiles ?? []).map((value) => ({ key: "lfsFile", value })),
      ...(b.deletedFiles ?? []).map((value) => ({ key: "deletedFile", value })),
    ];
  } else {
    throw hubError(
      "HEARTH_HUBSERVER_BAD_NDJSON",
      "commit: expected an application/x-ndjson body (one {key, value} object per line)",
    );
  }
  const first = lines[0];
  if (first?.key !== "header" || !first.value || typeof first.value !== "object") {
    throw hubError(
      "HEARTH_HUBSERVER_BAD_NDJSON",
      'commit: the first line must be {"key":"header","value":{"summary":...}}',
    );
  }
  const h = first.value as Record<string, unknown>;
  if (!str(h.summary) || !h.summary.trim())
    throw hubError("HEARTH_HUBSERVER_BAD_NDJSON", "commit: header.summary must be a non-empty string");
  if (
    h.parentCommit !== undefined &&
    h.parentCommit !== null &&
    (!str(h.parentCommit) || !/^[0-9a-fA-F]{5,40}$/.test(h.parentCommit))
  ) {
    throw hubError(
      "HEARTH_HUBSERVER_BAD_NDJSON",
      `commit: header.parentCommit must be 5 to 40 hex characters, got ${JSON.stringify(h.parentCommit)}`,
    );
  }
  const header: CommitHeader = {
    summary: h.summary.trim(),
    description: str(h.description) ? h.description : undefined,
    parentCommit: str(h.parentCommit) ? h.parentCommit : undefined,
  };
  const ops: CommitOp[] = lines.slice(1).map((line, i) => {
    const n = i + 2;
    const v = (line.value ?? {}) as Record<string, unknown>;
    const bad = (what: string) =>
      hubError("HEARTH_HUBSERVER_BAD_NDJSON", `commit: line ${n} (${String(line.key)}): ${what}`);
    if (!str(v.path)) throw bad("value.path must be a string");
    const oldPath = str(v.oldPath) ? v.oldPath : undefined;
    switch (line.key) {
      case "file": {
        if (!str(v.content)) throw bad("value.content must be a string");
        if (v.encoding !== undefined && v.encoding !== "base64" && v.encoding !== "utf-8")
          throw bad(`value.encoding must be 'base64' or 'utf-8', got ${JSON.stringify(v.encoding)}`);
        if (v.encoding === "base64" && !/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v.content))
          throw bad("value.content is not valid base64");
        return {
          kind: "file",
          path: v.path,
          content: Buffer.from(v.content, v.encoding === "base64" ? "base64" : "utf8"),
          oldPath,
        };
      }
      case "lfsFile": {
        if (v.algo !== undefined && v.algo !== "sha256")
          throw bad(`value.algo must be 'sha256', got ${JSON.stringify(v.algo)}`);
        if (!isSha256(v.oid)) throw bad("value.oid must be 64 lower-case hex characters (sha256)");
        if (v.size !== undefined && (!Number.isSafeInteger(v.size) || (v.size as number) < 0))
          throw bad("value.size must be a non-negative integer");
        return { kind: "lfsFile", path: v.path, oid: v.oid, size: v.size as number | undefined, oldPath };
      }
      case "deletedFile":
        return { kind: "deletedFile", path: v.path };
      case "deletedFolder":
        return { kind: "deletedFolder", path: v.path.replace(/\/+$/, "") };
      case "copyFile": {
        if (!str(v.srcPath)) throw bad("value.srcPath must be a string");
        return {
          kind: "copyFile",
          path: v.path,
          srcPath: v.srcPath,
          srcRevision: str(v.srcRevision) ? v.srcRevision : undefined,
        };
      }
      default:
        throw bad("unknown key; expected file, lfsFile, deletedFile, deletedFolder or copyFile");
    }
  });
  return { header, ops };
}

export async function uploadRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { content?: string; repoType?: string } }>(
    "/api/validate-yaml",
    { schema: { body: { type: "object", properties: { content: { type: "string" }, repoType: { type: "string" } } } } },
    async (req, reply) => {
      const errors = validateCardYaml(req.body?.content ?? "");
      if (errors.length) reply.code(400);
      return { errors, warnings: [] };
    },
  );

  app.post<{
    Params: RepoParams;
    Querystring: Record<string, unknown>;
    Body: { files: Array<{ path: string; size: number; sample?: string }>; gitIgnore?: string; gitAttributes?: string };
  }>(
    "/api/:types/:ns/:name/preupload/:rev",
    {
      schema: {
        params: repoParams,
        body: {
          type: "object",
          required: ["files"],
          properties: {
            files: {
              type: "array",
              maxItems: 1000,
              items: {
                type: "object",
                required: ["path", "size"],
                properties: {
                  path: { type: "string" },
                  size: { type: "integer", minimum: 0 },
                  sample: { type: "string" },
                },
              },
            },
            gitIgnore: { type: "string" },
            gitAttributes: { type: "string" },
          },
        },
      },
    },
    async (req) => {
      const { repo: r } = await writableRepo(req, "preupload");
      const git = app.hub.repos.git(r);
      const commit = await git.resolve(req.params.rev ?? "main").catch(() => undefined);
      const snap = commit ? await git.snapshot(commit) : new Map();
      const attrs =
        req.body.gitAttributes ??
        (snap.get(".gitattributes") ? (await git.readBlob(snap.get(".gitattributes").oid)).toString("utf8") : "");
      const ignore =
        req.body.gitIgnore ??
        (snap.get(".gitignore") ? (await git.readBlob(snap.get(".gitignore").oid)).toString("utf8") : "");
      const limits = app.hub.repos.limits;
      return {
        files: req.body.files.map((f) => {
          checkRepoPath("preupload files[].path", f.path);
          const lfs = f.size > 0 && (f.size >= limits.lfsThreshold || isLfsTracked(attrs, f.path));
          const oid = RepoService.remoteOid(snap.get(f.path));
          return {
            path: f.path,
            uploadMode: lfs ? "lfs" : "regular",
            shouldIgnore: isIgnored(ignore, f.path),
            ...(oid ? { oid } : {}),
          };
        }),
      };
    },
  );

  app.post<{ Params: RepoParams; Querystring: Record<string, unknown> }>(
    "/api/:types/:ns/:name/commit/:rev",
    { schema: { params: repoParams } },
    async (req) => {
      const { caller, repo: r } = await writableRepo(req, "commit");
      if (parseBool(req.query.create_pr))
        throw hubError(
          "HEARTH_HUBSERVER_NOT_IMPLEMENTED",
          "commit: create_pr (pull requests) is not supported by this hub",
        );
      const { header, ops } = parseCommitBody(req.body);
      const oid = await app.hub.repos.commit(r, req.params.rev ?? "main", header, ops, caller);
      return {
        success: true,
        commitOid: oid,
        commitUrl: `${app.hub.baseUrl(req)}/${urlPrefix(r.type)}${r.namespace}/${r.name}/commit/${oid}`,
        pullRequestUrl: null,
        hookOutput: "",
      };
    },
  );
}
