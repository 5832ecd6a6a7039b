/** Tree listing and paths-info (hub-api.md §4.3, §4.4). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { hubError } from "../errors.ts";
import type { FileEntry, GitRepo } from "../git/repo.ts";
import { rejectBadCredentials } from "../plugins/auth.ts";
import { parseBool, parseTypePlural } from "../repos/names.ts";
import { type RepoParams, repoParams } from "./schemas.ts";

/** One tree / paths-info entry in the wire shape (never with xetHash). */
export async function entryJson(
  git: GitRepo,
  commit: string,
  e: FileEntry,
  expand: boolean,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> =
    e.type === "directory"
      ? { type: "directory", oid: e.oid, size: 0, path: e.path }
      : { type: "file", oid: e.oid, size: e.lfs ? e.lfs.size : e.gitSize, path: e.path };
  if (e.lfs) out.lfs = { oid: e.lfs.oid, size: e.lfs.size, pointerSize: e.gitSize };
  if (expand) {
    const c = await git.lastCommitOf(commit, e.path);
    if (c) out.lastCommit = { id: c.id, title: c.title, date: c.date };
    out.securityFileStatus = null;
  }
  return out;
}

export async function treeRoutes(app: FastifyInstance): Promise<void> {
  const tree = async (
    req: FastifyRequest<{ Params: RepoParams; Querystring: Record<string, unknown> }>,
    reply: import("fastify").FastifyReply,
  ) => {
    rejectBadCredentials(req);
    const type = parseTypePlural(req.params.types);
    const r = await app.hub.repos.getReadable(type, req.params.ns, req.params.name, req.caller);
    const git = app.hub.repos.git(r);
    const commit = await git.resolve(req.params.rev ?? "main");
    const snap = await git.snapshot(commit);
    const dir = (req.params["*"] ?? "").replace(/^\/+|\/+$/g, "");
    if (dir && snap.get(dir)?.type !== "directory") {
      throw hubError("HEARTH_HUBSERVER_ENTRY_NOT_FOUND", `tree: no folder '${dir}' at ${commit}`, {
        headers: { "X-Repo-Commit": commit },
      });
    }
    const recursive = parseBool(req.query.recursive);
    const expand = parseBool(req.query.expand);
    const prefix = dir ? `${dir}/` : "";
    const all = [...snap.values()].filter(
      (e) => e.path.startsWith(prefix) && (recursive || !e.path.slice(prefix.length).includes("/")),
    );
    all.sort((a, b) => (a.type === b.type ? (a.path < b.path ? -1 : 1) : a.type === "directory" ? -1 : 1));
    const limit = Math.min(Math.max(Number(req.query.limit ?? (expand ? 50 : 1000)) || 1000, 1), expand ? 1000 : 10000);
    let offset = 0;
    if (typeof req.query.cursor === "string") {
      offset = Number(Buffer.from(req.query.cursor, "base64url").toString());
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `tree: invalid cursor '${req.query.cursor}'`);
    }
    const page = all.slice(offset, offset + limit);
    if (offset + limit < all.length) {
      const next = new URL(`${app.hub.baseUrl(req)}${req.url}`);
      next.searchParams.set("cursor", Buffer.from(String(offset + limit)).toString("base64url"));
      next.searchParams.set("limit", String(limit));
      reply.header("Link", `<${next.href}>; rel="next"`);
    }
    reply.header("X-Repo-Commit", commit);
    return Promise.all(page.map((e) => entryJson(git, commit, e, expand)));
  };
  app.get("/api/:types/:ns/:name/tree/:rev", { schema: { params: repoParams } }, tree);
  app.get("/api/:types/:ns/:name/tree/:rev/*", { schema: { params: repoParams } }, tree);

  app.post<{ Params: RepoParams; Body: { paths?: string | string[]; expand?: unknown } }>(
    "/api/:types/:ns/:name/paths-info/:rev",
    { schema: { params: repoParams } },
    async (req, reply) => {
      rejectBadCredentials(req);
      const type = parseTypePlural(req.params.types);
      const r = await app.hub.repos.getReadable(type, req.params.ns, req.params.name, req.caller);
      const body = req.body ?? {};
      const paths = typeof body.paths === "string" ? [body.paths] : Array.isArray(body.paths) ? body.paths : undefined;
      if (!paths || paths.some((p) => typeof p !== "string"))
        throw hubError(
          "HEARTH_HUBSERVER_BAD_REQUEST",
          "paths-info: body field 'paths' must be a string or a list of strings (JSON or form encoded)",
        );
      const git = app.hub.repos.git(r);
      const commit = await git.resolve(req.params.rev ?? "main");
      const snap = await git.snapshot(commit);
      const expand = parseBool(body.expand);
      const found = [...new Set(paths.map((p) => p.replace(/^\/+|\/+$/g, "")))]
        .map((p) => snap.get(p))
        .filter((e): e is FileEntry => !!e);
      reply.header("X-Repo-Commit", commit);
      return Promise.all(found.map((e) => entryJson(git, commit, e, expand)));
    },
  );
}
