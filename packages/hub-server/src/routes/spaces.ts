/**
 * Spaces over HTTP: the running app under `/spaces/<ns>/<name>/app/` (static files from git, or
 * the node app proxied, WebSockets included), optionally at a per-Space origin, and the Space
 * API of hub-api.md §9.2 (runtime, host, restart, pause, secrets, variables, SSE logs).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hashSecret } from "../auth/credentials.ts";
import type { RepoRow } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { readCookie, requireCaller, SESSION_COOKIE } from "../plugins/auth.ts";
import type { Caller } from "../repos/service.ts";
import { spaceHostLabel } from "../spaces/config.ts";
import type { SpaceManager, SpaceRuntime } from "../spaces/manager.ts";
import { staticContentType } from "../spaces/mime.ts";
import { proxyHttp, proxyUpgrade, SANDBOX_CSP } from "../spaces/proxy.ts";
import { esc } from "../ui/html.ts";
import { spacePages } from "./spaces-ui.ts";

type P = { ns: string; name: string };
const APP_PATH = /^\/spaces\/([^/?#]+)\/([^/?#]+)\/app(\/[^?#]*)?(\?.*)?$/;

export const spacesRoutes = fp(
  async (app: FastifyInstance) => {
    const spaces = app.hub.spaces as SpaceManager;

    async function writable(req: FastifyRequest<{ Params: P }>): Promise<{ r: RepoRow; s: SpaceRuntime }> {
      const caller = requireCaller(req, "spaces");
      const r = await app.hub.repos.getWritable("space", req.params.ns, req.params.name, caller);
      return { r, s: await spaces.get(r) };
    }
    async function readable(req: FastifyRequest<{ Params: P }>): Promise<{ r: RepoRow; s: SpaceRuntime }> {
      const r = await app.hub.repos.getReadable("space", req.params.ns, req.params.name, req.caller);
      return { r, s: await spaces.get(r) };
    }

    /** Serves one request to a Space's app; `path` is the path inside the app (starting with /). */
    async function serveApp(
      req: IncomingMessage,
      reply: FastifyReply,
      r: RepoRow,
      path: string,
      query: string,
      prefix: string,
      sandbox: boolean,
    ) {
      const s = await spaces.get(r);
      s.lastRequest = Date.now();
      if (s.config?.sdk === "static") {
        if (req.method !== "GET" && req.method !== "HEAD")
          return reply.code(405).header("Allow", "GET, HEAD").type("text/plain").send("static Space: GET only\n");
        const git = app.hub.repos.git(r);
        const commit = await git.resolve("main");
        const snap = await git.snapshot(commit);
        let file = decodeURIComponent(path).replace(/^\/+/, "");
        if (file === "") file = s.config.appFile;
        else if (file.endsWith("/") || snap.get(file)?.type === "directory")
          file = `${file.replace(/\/$/, "")}/index.html`;
        const e = snap.get(file);
        if (e?.type !== "file")
          return reply.code(404).type("text/plain; charset=utf-8").send(`Not found in the Space: ${file}\n`);
        let body: Buffer;
        if (e.lfs) {
          const chunks: Buffer[] = [];
          for await (const c of app.hub.blobs.read(e.lfs.oid)) chunks.push(c as Buffer);
          body = Buffer.concat(chunks);
        } else body = await git.readBlob(e.oid);
        reply
          .header("ETag", `"${e.lfs ? e.lfs.oid : e.oid}"`)
          .header("X-Repo-Commit", commit)
          .header("Cache-Control", "no-cache");
        if (sandbox) reply.header("Content-Security-Policy", SANDBOX_CSP);
        return reply.type(staticContentType(file)).send(body);
      }
      const target = await s.ready();
      if (!target) {
        const info = s.info();
        return reply
          .code(503)
          .header("Retry-After", "5")
          .type("text/html; charset=utf-8")
          .send(
            `<!doctype html><html lang="en"><title>Space ${esc(info.stage)}</title><body><h1>This Space is ${esc(info.stage.toLowerCase().replace(/_/g, " "))}</h1>${info.errorMessage ? `<p>${esc(info.errorMessage)}</p>` : ""}</body></html>`,
          );
      }
      reply.hijack();
      await proxyHttp(req, reply.raw, target, `${path || "/"}${query}`, { prefix, sandbox });
    }

    // per-Space origin: <ns>--<name>.<originDomain>
    const domain = spaces.opts.originDomain?.toLowerCase();
    function originSpace(host: string | undefined): { ns: string; name: string } | undefined {
      if (!domain || !host) return undefined;
      const h = host.toLowerCase().replace(/:\d+$/, "");
      if (!h.endsWith(`.${domain}`)) return undefined;
      const label = h.slice(0, -domain.length - 1);
      const i = label.indexOf("--");
      return i > 0 ? { ns: label.slice(0, i), name: label.slice(i + 2) } : undefined;
    }
    if (domain) {
      app.addHook("onRequest", async (req, reply) => {
        const sp = originSpace(req.headers.host);
        if (!sp) return;
        const r = await app.hub.repos.getReadable("space", sp.ns, sp.name, req.caller);
        const u = new URL(req.url, "http://x");
        await serveApp(req.raw, reply, r, u.pathname, u.search, "", false);
        return reply;
      });
    }

    await app.register(async (raw) => {
      // the app gets the request body untouched
      raw.removeAllContentTypeParsers();
      raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
      raw.all<{ Params: P }>("/spaces/:ns/:name/app", async (req, reply) => {
        const q = req.url.indexOf("?");
        return reply.redirect(`/spaces/${req.params.ns}/${req.params.name}/app/${q >= 0 ? req.url.slice(q) : ""}`, 308);
      });
      raw.all<{ Params: P }>("/spaces/:ns/:name/app/*", async (req, reply) => {
        const r = await app.hub.repos.getReadable("space", req.params.ns, req.params.name, req.caller);
        const m = APP_PATH.exec(req.url);
        const prefix = `/spaces/${req.params.ns}/${req.params.name}/app`;
        return serveApp(req.raw, reply, r, m?.[3] ?? "/", m?.[4] ?? "", prefix, true);
      });
    });

    // WebSockets (and other upgrades) to a Space app
    async function callerOf(req: IncomingMessage): Promise<Caller | undefined> {
      const h = req.headers.authorization;
      const bearer = h && /^bearer\s+/i.test(h) ? h.replace(/^bearer\s+/i, "").trim() : undefined;
      if (bearer) {
        const t = await app.hub.db.findTokenByHash(hashSecret(bearer));
        const user = t && (await app.hub.db.getUserById(t.userId));
        return user && t
          ? { user, role: t.role, via: "token", tokenName: t.name, tokenCreatedAt: t.createdAt }
          : undefined;
      }
      const session = readCookie(req as unknown as FastifyRequest, SESSION_COOKIE);
      const userId = session && (await app.hub.db.findSession(hashSecret(session)));
      const user = userId && (await app.hub.db.getUserById(userId));
      return user
        ? { user, role: "write", via: "session", tokenName: "web session", tokenCreatedAt: user.createdAt }
        : undefined;
    }
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void (async () => {
        const m = APP_PATH.exec(req.url ?? "");
        const sp = originSpace(req.headers.host);
        const ns = sp?.ns ?? (m ? decodeURIComponent(m[1] as string) : undefined);
        const name = sp?.name ?? (m ? decodeURIComponent(m[2] as string) : undefined);
        if (!ns || !name) throw new Error("not a Space URL");
        const r = await app.hub.repos.getReadable("space", ns, name, await callerOf(req));
        const s = await spaces.get(r);
        const target = await s.ready();
        if (!target) throw new Error(`Space is ${s.stage}`);
        const u = new URL(req.url ?? "/", "http://x");
        const path = sp ? `${u.pathname}${u.search}` : `${m?.[3] ?? "/"}${m?.[4] ?? ""}`;
        proxyUpgrade(req, socket, head, target, path, sp ? "" : `/spaces/${ns}/${name}/app`, () => {
          s.lastRequest = Date.now();
        });
      })().catch(() => {
        if (socket.writable) socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
        socket.destroy();
      });
    };
    app.server.on("upgrade", onUpgrade);
    app.addHook("onClose", async () => {
      app.server.off("upgrade", onUpgrade);
    });

    // ---- API (hub-api.md §9.2)
    const streams = new Set<import("node:http").ServerResponse>();
    app.addHook("preClose", async () => {
      for (const res of streams) res.end();
    });
    app.get<{ Params: P }>("/api/spaces/:ns/:name/runtime", async (req) => (await readable(req)).s.info());
    app.get<{ Params: P }>("/api/spaces/:ns/:name/host", async (req) => {
      const { r } = await readable(req);
      const base = app.hub.baseUrl(req);
      const label = spaceHostLabel(r);
      const host = domain
        ? `${new URL(base).protocol}//${label}.${domain}${new URL(base).port ? `:${new URL(base).port}` : ""}`
        : `${base}/spaces/${r.namespace}/${r.name}/app`;
      return { host, subdomain: label };
    });
    app.post<{ Params: P; Querystring: { factory?: string } }>("/api/spaces/:ns/:name/restart", async (req) => {
      const { s } = await writable(req);
      if (
        req.query.factory === "true" ||
        req.query.factory === "1" ||
        s.stage === "PAUSED" ||
        s.stage === "BUILD_ERROR"
      )
        await s.update(true);
      else await s.restart();
      return s.info();
    });
    app.post<{ Params: P }>("/api/spaces/:ns/:name/pause", async (req) => {
      const { s } = await writable(req);
      await s.stop("PAUSED");
      return s.info();
    });

    for (const kind of ["secrets", "variables"] as const) {
      app.get<{ Params: P }>(`/api/spaces/:ns/:name/${kind}`, async (req) => {
        const { r } = await writable(req);
        if (kind === "secrets") return spaces.settings.secrets(r.id);
        const out: Record<string, unknown> = {};
        for (const v of await spaces.settings.variables(r.id))
          out[v.key] = { value: v.value, description: v.description, updatedAt: v.updatedAt };
        return out;
      });
      app.post<{ Params: P; Body: { key?: unknown; value?: unknown; description?: unknown } }>(
        `/api/spaces/:ns/:name/${kind}`,
        async (req) => {
          const { r, s } = await writable(req);
          const b = (req.body ?? {}) as { key?: unknown; value?: unknown; description?: unknown };
          await spaces.settings.set(kind, r.id, b.key as string, b.value, b.description);
          void s.restart();
          return { ok: true };
        },
      );
      app.delete<{ Params: P; Body: { key?: unknown } }>(`/api/spaces/:ns/:name/${kind}`, async (req) => {
        const { r, s } = await writable(req);
        const key = ((req.body ?? {}) as { key?: unknown }).key;
        if (!(await spaces.settings.remove(kind, r.id, String(key))))
          throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `delete ${kind}: no key ${JSON.stringify(key)?.slice(0, 80)}`);
        void s.restart();
        return { ok: true };
      });
    }

    app.get<{ Params: P & { kind: string }; Querystring: { follow?: string } }>(
      "/api/spaces/:ns/:name/logs/:kind",
      async (req, reply) => {
        if (req.params.kind !== "build" && req.params.kind !== "run")
          throw hubError(
            "HEARTH_HUBSERVER_NOT_FOUND",
            `logs: kind must be 'build' or 'run', got '${req.params.kind.slice(0, 40)}'`,
          );
        const { s } = await writable(req as unknown as FastifyRequest<{ Params: P }>);
        const log = req.params.kind === "build" ? s.buildLog : s.runLog;
        const follow = !["0", "false"].includes(req.query.follow ?? "true");
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          "x-accel-buffering": "no",
        });
        const send = (l: { data: string; timestamp: string }) => res.write(`data: ${JSON.stringify(l)}\n\n`);
        for (const l of log.all()) send(l);
        if (!follow) return void res.end();
        const stop = log.follow(send);
        const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
        streams.add(res);
        req.raw.on("close", () => {
          stop();
          clearInterval(ping);
          streams.delete(res);
        });
      },
    );

    await app.register(spacePages);
  },
  { name: "hearth-spaces", dependencies: ["hearth-auth"] },
);
