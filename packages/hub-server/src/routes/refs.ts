/** Refs, branches, tags and commit history (hub-api.md §4.5). */
import type { FastifyInstance } from "fastify";
import { hubError } from "../errors.ts";
import { rejectBadCredentials } from "../plugins/auth.ts";
import { hasControlChar, parseBool, parseTypePlural } from "../repos/names.ts";
import { withLock } from "../repos/service.ts";
import { queryList, type RepoParams, repoParams } from "./schemas.ts";
import { writableRepo } from "./writable-repo.ts";

/** Branch and tag names git accepts as ref components, checked before touching git. */
function checkRefName(what: string, name: string): string {
  if (
    !name ||
    name.length > 200 ||
    name.startsWith("-") ||
    name.startsWith("/") ||
    name.endsWith("/") ||
    name.endsWith(".lock") ||
    name.endsWith(".") ||
    /[\s~^:?*[\\]|\.\.|@\{|\/\//.test(name) ||
    hasControlChar(name)
  ) {
    throw hubError("HEARTH_HUBSERVER_BAD_NAME", `${what}: '${name.slice(0, 100)}' is not a valid git ref name`);
  }
  return name;
}

export async function refsRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: RepoParams; Querystring: Record<string, unknown> }>(
    "/api/:types/:ns/:name/refs",
    { schema: { params: repoParams } },
    async (req) => {
      rejectBadCredentials(req);
      const r = await app.hub.repos.getReadable(
        parseTypePlural(req.params.types),
        req.params.ns,
        req.params.name,
        req.caller,
      );
      const refs = await app.hub.repos.git(r).refs();
      const out: Record<string, unknown> = { branches: refs.branches, converts: refs.converts, tags: refs.tags };
      if (parseBool(req.query.include_prs)) out.pullRequests = refs.pullRequests;
      return out;
    },
  );

  app.post<{
    Params: RepoParams & { branch: string };
    Body: { startingPoint?: string; emptyBranch?: boolean; overwrite?: boolean };
  }>(
    "/api/:types/:ns/:name/branch/:branch",
    {
      schema: {
        params: {
          ...repoParams,
          required: ["types", "ns", "name", "branch"],
          properties: { ...repoParams.properties, branch: { type: "string" } },
        },
      },
    },
    async (req) => {
      const { repo: r } = await writableRepo(req, "createBranch");
      const git = app.hub.repos.git(r);
      const branch = checkRefName("createBranch", req.params.branch);
      const body = req.body ?? {};
      if (body.emptyBranch)
        throw hubError("HEARTH_HUBSERVER_NOT_IMPLEMENTED", "createBranch: emptyBranch is not supported");
      const target = await git.resolve(body.startingPoint ?? "main");
      await withLock(r.id, async () => {
        const existing = await git.resolve(`refs/heads/${branch}`).catch(() => undefined);
        if (existing && !body.overwrite)
          throw hubError("HEARTH_HUBSERVER_CONFLICT", `createBranch: branch '${branch}' already exists`);
        if (!(await git.casRef(`refs/heads/${branch}`, target, existing)))
          throw hubError("HEARTH_HUBSERVER_CONFLICT", `createBranch: branch '${branch}' changed meanwhile`);
      });
      return { success: true };
    },
  );

  app.delete<{ Params: RepoParams & { branch: string } }>("/api/:types/:ns/:name/branch/:branch", async (req) => {
    const { repo: r } = await writableRepo(req, "deleteBranch");
    const branch = checkRefName("deleteBranch", req.params.branch);
    if (branch === "main")
      throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "deleteBranch: the default branch 'main' cannot be deleted");
    const git = app.hub.repos.git(r);
    await git.resolve(`refs/heads/${branch}`);
    await git.deleteRef(`refs/heads/${branch}`);
    return { success: true };
  });

  app.post<{ Params: RepoParams; Body: { tag: string; message?: string } }>(
    "/api/:types/:ns/:name/tag/:rev",
    {
      schema: {
        params: repoParams,
        body: {
          type: "object",
          required: ["tag"],
          properties: { tag: { type: "string" }, message: { type: "string" } },
        },
      },
    },
    async (req) => {
      const { repo: r } = await writableRepo(req, "createTag");
      const git = app.hub.repos.git(r);
      const tag = checkRefName("createTag", req.body.tag);
      const target = await git.resolve(req.params.rev ?? "main");
      if (!(await git.casRef(`refs/tags/${tag}`, target, undefined)))
        throw hubError("HEARTH_HUBSERVER_CONFLICT", `createTag: tag '${tag}' already exists`);
      return { success: true };
    },
  );

  app.delete<{ Params: RepoParams & { tag: string } }>("/api/:types/:ns/:name/tag/:tag", async (req) => {
    const { repo: r } = await writableRepo(req, "deleteTag");
    const tag = checkRefName("deleteTag", req.params.tag);
    if (!(await app.hub.repos.git(r).deleteRef(`refs/tags/${tag}`)))
      throw hubError("HEARTH_HUBSERVER_REVISION_NOT_FOUND", `deleteTag: no tag '${tag}'`);
    return { success: true };
  });

  app.get<{ Params: RepoParams; Querystring: Record<string, unknown> }>(
    "/api/:types/:ns/:name/commits/:rev",
    { schema: { params: repoParams } },
    async (req, reply) => {
      rejectBadCredentials(req);
      const r = await app.hub.repos.getReadable(
        parseTypePlural(req.params.types),
        req.params.ns,
        req.params.name,
        req.caller,
      );
      const git = app.hub.repos.git(r);
      const commit = await git.resolve(req.params.rev ?? "main");
      const limit = Math.min(Math.max(Number(req.query.limit ?? 50) || 50, 1), 1000);
      const page = Math.max(Number(req.query.p ?? 0) || 0, 0);
      const total = await git.countCommits(commit);
      const commits = await git.log(commit, page * limit, limit);
      reply.header("X-Total-Count", String(total));
      if ((page + 1) * limit < total) {
        const next = new URL(`${app.hub.baseUrl(req)}${req.url}`);
        next.searchParams.set("p", String(page + 1));
        next.searchParams.set("limit", String(limit));
        reply.header("Link", `<${next.href}>; rel="next"`);
      }
      const formatted = queryList(req.query, "expand").includes("formatted");
      return commits.map((c) => ({
        id: c.id,
        title: c.title,
        message: c.message,
        authors: [
          { user: c.authorName, avatar: `${app.hub.baseUrl(req)}/avatars/${encodeURIComponent(c.authorName)}.svg` },
        ],
        date: c.date,
        ...(formatted ? { formatted: { title: c.title, message: c.message } } : {}),
      }));
    },
  );
}
