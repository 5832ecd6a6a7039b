/** Repo create / delete / move / settings (hub-api.md §5). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RepoType } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { requireCaller } from "../plugins/auth.ts";
import { checkName, checkNamespace, parseBool, parseTypeSingular, urlPrefix } from "../repos/names.ts";
import { type RepoParams, repoParams } from "./schemas.ts";
import { writableRepo } from "./writable-repo.ts";

interface CreateBody {
  name: string;
  organization?: string | null;
  type?: RepoType;
  private?: boolean;
  visibility?: "public" | "private" | "protected";
  sdk?: string;
  license?: string;
  files?: Array<{ path: string; content: string; encoding?: string }>;
}

export async function reposRoutes(app: FastifyInstance): Promise<void> {
  const repoUrl = (req: FastifyRequest, type: RepoType, id: string) =>
    `${app.hub.baseUrl(req)}/${urlPrefix(type)}${id}`;

  app.post<{ Body: CreateBody }>(
    "/api/repos/create",
    {
      schema: {
        body: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string" },
            organization: { type: ["string", "null"] },
            type: { type: "string", enum: ["model", "dataset", "space"] },
            private: { type: "boolean" },
            visibility: { type: "string", enum: ["public", "private", "protected"] },
            sdk: { type: "string" },
            license: { type: "string" },
            files: {
              type: "array",
              items: {
                type: "object",
                required: ["path", "content"],
                properties: { path: { type: "string" }, content: { type: "string" }, encoding: { type: "string" } },
              },
            },
          },
        },
      },
    },
    async (req, reply) => {
      const caller = requireCaller(req, "createRepo");
      const b = req.body;
      let ns = b.organization ?? caller.user.name;
      let name = b.name;
      if (name.includes("/")) [ns, name] = name.split("/", 2) as [string, string];
      checkNamespace("createRepo: organization", ns);
      checkName("createRepo: name", name);
      const type = parseTypeSingular(b.type);
      const isPrivate = b.visibility ? b.visibility !== "public" : !!b.private;
      const existing = await app.hub.db.getRepo(type, ns, name);
      if (existing) {
        const visible = await app.hub.repos.canRead(caller, existing);
        const id = `${existing.namespace}/${existing.name}`;
        return reply
          .code(409)
          .header("X-Error-Message", "You already created this repo")
          .send({
            error: "You already created this repo",
            url: visible ? repoUrl(req, type, id) : repoUrl(req, type, `${ns}/${name}`),
          });
      }
      const files = (b.files ?? []).map((f) => ({
        path: f.path,
        content: Buffer.from(f.content, f.encoding === "base64" ? "base64" : "utf8"),
      }));
      const extra: Record<string, unknown> = {};
      if (b.sdk) extra.sdk = b.sdk;
      if (b.license) extra.license = b.license;
      const row = await app.hub.repos.create(caller, { type, namespace: ns, name, private: isPrivate, files, extra });
      const id = `${row.namespace}/${row.name}`;
      return { url: repoUrl(req, type, id), name: id, id: row.id };
    },
  );

  const nameBody = {
    type: "object",
    required: ["name"],
    properties: {
      name: { type: "string" },
      organization: { type: ["string", "null"] },
      type: { type: "string", enum: ["model", "dataset", "space"] },
    },
  } as const;

  app.delete<{ Body: { name: string; organization?: string | null; type?: RepoType } }>(
    "/api/repos/delete",
    { schema: { body: nameBody } },
    async (req) => {
      const caller = requireCaller(req, "deleteRepo");
      let ns = req.body.organization ?? caller.user.name;
      let name = req.body.name;
      if (name.includes("/")) [ns, name] = name.split("/", 2) as [string, string];
      const row = await app.hub.repos.getWritable(parseTypeSingular(req.body.type), ns, name, caller);
      await app.hub.repos.remove(row);
      return { success: true };
    },
  );

  app.post<{ Body: { fromRepo: string; toRepo: string; type?: RepoType } }>(
    "/api/repos/move",
    {
      schema: {
        body: {
          type: "object",
          required: ["fromRepo", "toRepo"],
          properties: {
            fromRepo: { type: "string" },
            toRepo: { type: "string" },
            type: { type: "string", enum: ["model", "dataset", "space"] },
          },
        },
      },
    },
    async (req) => {
      const caller = requireCaller(req, "moveRepo");
      const type = parseTypeSingular(req.body.type);
      const [fns, fname] = req.body.fromRepo.split("/");
      const [tns, tname] = req.body.toRepo.split("/");
      if (!fns || !fname || !tns || !tname)
        throw hubError(
          "HEARTH_HUBSERVER_BAD_REQUEST",
          `moveRepo: fromRepo and toRepo must be 'namespace/name', got '${req.body.fromRepo}' and '${req.body.toRepo}'`,
        );
      const row = await app.hub.repos.getWritable(type, fns, fname, caller);
      checkNamespace("moveRepo: toRepo namespace", tns);
      checkName("moveRepo: toRepo name", tname);
      const role = await app.hub.repos.namespaceRole(caller.user, tns);
      if (role !== "admin" && role !== "write")
        throw hubError(
          "HEARTH_HUBSERVER_FORBIDDEN",
          `moveRepo: '${caller.user.name}' may not write to namespace '${tns}'`,
        );
      if (await app.hub.db.getRepo(type, tns, tname))
        throw hubError("HEARTH_HUBSERVER_CONFLICT", `moveRepo: ${type} '${tns}/${tname}' already exists`);
      await app.hub.repos.move(row, tns, tname);
      return { success: true, url: repoUrl(req, type, `${tns}/${tname}`) };
    },
  );

  const settings = async (
    req: FastifyRequest<{
      Params: RepoParams;
      Body: { private?: boolean; visibility?: string; gated?: string | boolean };
    }>,
  ) => {
    const { repo: row } = await writableRepo(req, "repo settings");
    const b = req.body ?? {};
    const patch: { private?: boolean; gated?: false | "auto" | "manual" } = {};
    if (b.visibility !== undefined) patch.private = b.visibility !== "public";
    else if (b.private !== undefined) patch.private = parseBool(b.private);
    if (b.gated !== undefined) {
      if (b.gated !== false && b.gated !== "false" && b.gated !== "auto" && b.gated !== "manual")
        throw hubError(
          "HEARTH_HUBSERVER_BAD_REQUEST",
          `repo settings: gated must be false, "auto" or "manual", got ${JSON.stringify(b.gated)}`,
        );
      patch.gated = b.gated === "false" ? false : b.gated;
    }
    await app.hub.db.updateRepo(row.id, patch);
    return { success: true };
  };
  const settingsBody = {
    type: "object",
    properties: {
      private: { type: "boolean" },
      visibility: { type: "string", enum: ["public", "private", "protected"] },
      gated: { anyOf: [{ type: "string" }, { type: "boolean" }] },
    },
  } as const;
  app.put("/api/:types/:ns/:name/settings", { schema: { params: repoParams, body: settingsBody } }, settings);
  app.put<{ Params: { type: string; ns: string; name: string } }>(
    "/api/repos/:type/:ns/:name/settings",
    async (req, reply) => {
      // the old HF docs' path; same handler
      const types = `${req.params.type.replace(/s$/, "")}s` as RepoParams["types"];
      return settings(
        Object.assign(req, { params: { types, ns: req.params.ns, name: req.params.name } }) as never,
      ).then((r) => reply.send(r));
    },
  );
}
