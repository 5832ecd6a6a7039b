/** `resolve` and `raw` downloads with HEAD, Range, ETag and the X-Repo-Commit / X-Linked-* headers (§3). */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RepoType } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { rejectBadCredentials } from "../plugins/auth.ts";
import { checkRepoPath, parseTypePlural } from "../repos/names.ts";
import { sendBlob } from "../storage/send-file.ts";

const textTypes: Record<string, string> = {
  json: "application/json",
  md: "text/markdown",
  txt: "text/plain",
  py: "text/x-python",
  yaml: "text/yaml",
  yml: "text/yaml",
  csv: "text/csv",
  jsonl: "application/jsonl",
  html: "text/html",
  js: "text/javascript",
  ts: "text/plain",
  gitattributes: "text/plain",
};

export function contentTypeOf(path: string): string {
  const ext = path.split(".").pop()?.toLowerCase() ?? "";
  const t = textTypes[ext];
  if (t) return `${t}; charset=utf-8`;
  if (ext === "png") return "image/png";
  if (ext === "jpg" || ext === "jpeg") return "image/jpeg";
  return "application/octet-stream";
}

/** Parses a single `bytes=a-b` / `a-` / `-n` range; undefined = whole file; "bad" = 416. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined | "bad" {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)(,.*)?$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const n = Number(m[2]);
    if (n === 0) return "bad";
    start = Math.max(size - n, 0);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return "bad";
  return { start, end };
}

export async function resolveRoutes(app: FastifyInstance): Promise<void> {
  async function serveFile(
    req: FastifyRequest,
    reply: FastifyReply,
    type: RepoType,
    ns: string,
    name: string,
    rev: string,
    rawPath: string,
    raw: boolean,
  ) {
    rejectBadCredentials(req);
    const r = await app.hub.repos.getReadable(type, ns, name, req.caller);
    await app.hub.repos.checkGate(req.caller, r);
    const git = app.hub.repos.git(r);
    const commit = await git.resolve(rev);
    const path = checkRepoPath(raw ? "raw" : "resolve", rawPath);
    const e = (await git.snapshot(commit)).get(path);
    if (e?.type !== "file") {
      throw hubError(
        "HEARTH_HUBSERVER_ENTRY_NOT_FOUND",
        `Entry not found: '${path}' does not exist at revision ${commit}`,
        { headers: { "X-Repo-Commit": commit } },
      );
    }
    const lfs = raw ? undefined : e.lfs;
    const size = lfs ? lfs.size : e.gitSize;
    const etag = `"${lfs ? lfs.oid : e.oid}"`;
    reply
      .header("X-Repo-Commit", commit)
      .header("ETag", etag)
      .header("Accept-Ranges", "bytes")
      .header("Content-Type", contentTypeOf(path));
    const file = path.split("/").pop() as string;
    reply.header(
      "Content-Disposition",
      `inline; filename*=UTF-8''${encodeURIComponent(file)}; filename="${file.replace(/[^\x20-\x7e]|"/g, "_")}"`,
    );
    if (lfs) reply.header("X-Linked-Size", String(lfs.size)).header("X-Linked-Etag", etag);
    if (req.headers["if-none-match"] === etag) return reply.code(304).send();
    const range = parseRange(req.headers.range, size);
    if (range === "bad") {
      reply.header("Content-Range", `bytes */${size}`);
      throw hubError(
        "HEARTH_HUBSERVER_RANGE_NOT_SATISFIABLE",
        `${raw ? "raw" : "resolve"}: Range '${req.headers.range}' is outside the ${size} bytes of '${path}'`,
        { headers: { "Content-Range": `bytes */${size}` } },
      );
    }
    if (range) reply.code(206).header("Content-Range", `bytes ${range.start}-${range.end}/${size}`);
    const length = range ? range.end - range.start + 1 : size;
    reply.header("Content-Length", String(length));
    if (req.method === "HEAD") return reply.send();
    if (!range || (range.start === 0 && range.end > 0)) app.hub.downloads.add(r.id);
    if (lfs) {
      if (!(await app.hub.blobs.stat(lfs.oid))) {
        throw hubError(
          "HEARTH_HUBSERVER_LFS_OBJECT_MISSING",
          `resolve: LFS object ${lfs.oid} of '${path}' is not in the store (pushed pointer without its object?)`,
          { status: 404, headers: { "X-Repo-Commit": commit } },
        );
      }
      return sendBlob(reply, app.hub.blobs, lfs.oid, lfs.size, range);
    }
    const content = await git.readBlob(e.oid);
    return reply.send(range ? content.subarray(range.start, range.end + 1) : content);
  }

  type P = { ns: string; name: string; rev: string; "*": string; types?: string };
  const methods: Array<"GET" | "HEAD"> = ["GET", "HEAD"];
  for (const kind of ["resolve", "raw"] as const) {
    const raw = kind === "raw";
    app.route<{ Params: P }>({
      method: methods,
      url: `/:ns/:name/${kind}/:rev/*`,
      exposeHeadRoute: false,
      handler: (req, reply) =>
        serveFile(req, reply, "model", req.params.ns, req.params.name, req.params.rev, req.params["*"], raw),
    });
    for (const t of ["datasets", "spaces", "models"] as const) {
      app.route<{ Params: P }>({
        method: methods,
        url: `/${t}/:ns/:name/${kind}/:rev/*`,
        exposeHeadRoute: false,
        handler: (req, reply) =>
          serveFile(
            req,
            reply,
            parseTypePlural(t),
            req.params.ns,
            req.params.name,
            req.params.rev,
            req.params["*"],
            raw,
          ),
      });
    }
    app.route<{ Params: P }>({
      method: methods,
      url: `/api/:types/:ns/:name/${kind}/:rev/*`,
      exposeHeadRoute: false,
      handler: (req, reply) =>
        serveFile(
          req,
          reply,
          parseTypePlural(req.params.types ?? ""),
          req.params.ns,
          req.params.name,
          req.params.rev,
          req.params["*"],
          raw,
        ),
    });
  }
}
