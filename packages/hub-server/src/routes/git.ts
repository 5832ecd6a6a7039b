/** git smart HTTP (clone, fetch, push) through `git http-backend` (hub-api.md §7). */
import { join, relative } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RepoType } from "../db/types.ts";
import { runHttpBackend } from "../git/http-backend.ts";
import { askForBasic } from "../plugins/auth.ts";

type P = { ns: string; name: string };

export async function gitRoutes(app: FastifyInstance): Promise<void> {
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));

    async function handle(
      req: FastifyRequest<{ Params: P; Querystring: { service?: string } }>,
      reply: FastifyReply,
      type: RepoType,
      service: string,
      endpoint: string,
    ) {
      const name = req.params.name.replace(/\.git$/, "");
      const push = service === "git-receive-pack";
      if (service !== "git-upload-pack" && !push)
        return reply.code(403).type("text/plain").send("unsupported git service\n");
      if (req.badCredentials) return askForBasic(reply, "Invalid credentials");
      const r = await app.hub.db.getRepo(type, req.params.ns, name);
      const visible = r && (await app.hub.repos.canRead(req.caller, r));
      if (!r || !visible) {
        // the same answer for missing and private repos
        if (!req.caller) return askForBasic(reply, "Authentication required");
        return reply.code(404).type("text/plain").send("Repository not found\n");
      }
      if (push) {
        if (!req.caller) return askForBasic(reply, "Pushing needs your user name and a write token as password");
        if (!(await app.hub.repos.canWrite(req.caller, r)))
          return reply
            .code(403)
            .type("text/plain")
            .send(`${req.caller.user.name} may not push to ${r.namespace}/${r.name}\n`);
      }
      const root = join(app.hub.dataDir, "repos");
      const repoDir = app.hub.repos.repoDir(r);
      const cgi = await runHttpBackend({
        projectRoot: root,
        pathInfo: `/${relative(root, repoDir)}/${endpoint}`,
        method: req.method,
        query: endpoint === "info/refs" ? `service=${service}` : "",
        contentType: req.headers["content-type"],
        contentEncoding: req.headers["content-encoding"] as string | undefined,
        gitProtocol: req.headers["git-protocol"] as string | undefined,
        remoteUser: push ? req.caller?.user.name : undefined,
        remoteAddr: req.ip,
        body: req.method === "POST" ? (req.body as import("node:stream").Readable) : undefined,
      });
      if (push && endpoint === "git-receive-pack") {
        void cgi.done.then(() => app.hub.repos.refreshMeta(r)).catch((e) => req.log.error(e));
      }
      return reply.code(cgi.status).headers(cgi.headers).send(cgi.body);
    }

    const prefixes: Array<[string, RepoType]> = [
      ["", "model"],
      ["/models", "model"],
      ["/datasets", "dataset"],
      ["/spaces", "space"],
    ];
    for (const [prefix, type] of prefixes) {
      raw.get<{ Params: P; Querystring: { service?: string } }>(`${prefix}/:ns/:name/info/refs`, (req, reply) =>
        handle(req, reply, type, req.query.service ?? "", "info/refs"),
      );
      for (const service of ["git-upload-pack", "git-receive-pack"]) {
        raw.post<{ Params: P; Querystring: { service?: string } }>(`${prefix}/:ns/:name/${service}`, (req, reply) =>
          handle(req, reply, type, service, service),
        );
      }
    }
  });
}
