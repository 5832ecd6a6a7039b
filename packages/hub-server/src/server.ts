/** The only place that listens: `serve({ port, data })`, used by `npm start` and `hearth serve`. */
import { join, resolve } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app.ts";
import { ensureAdmin } from "./bootstrap.ts";
import { seedDemo } from "./seed.ts";

export interface ServeOptions {
  /** TCP port; default `PORT` or 8080. 0 picks a free one. */
  port?: number;
  /** Interface; default 127.0.0.1. */
  host?: string;
  /** Data folder; default `HEARTH_HOME` or `./.hearth`. */
  data?: string;
  /** Public base URL when behind a proxy. */
  publicUrl?: string;
  /** Seed the demo model and dataset on first start (default true). */
  seed?: boolean;
  logger?: boolean;
}

export interface RunningHub {
  app: FastifyInstance;
  url: string;
  dataDir: string;
  admin: { name: string; token: string | undefined; created: boolean };
  close(): Promise<void>;
}

/**
 * Starts the hub. On first start it creates the admin user, writes its token to
 * `<data>/admin-token` (mode 0600) and seeds demo repos.
 * @example
 * const hub = await serve({ port: 8080, data: "./.hearth" });
 * console.log(hub.url, hub.admin.token);
 */
export async function serve(opts: ServeOptions = {}): Promise<RunningHub> {
  const dataDir = resolve(opts.data ?? process.env.HEARTH_HOME ?? ".hearth");
  const port = opts.port ?? Number(process.env.PORT ?? 8080);
  const host = opts.host ?? "127.0.0.1";
  const app = await buildApp({ dataDir, publicUrl: opts.publicUrl, logger: opts.logger });
  const admin = await ensureAdmin(app);
  if (admin.created && opts.seed !== false) {
    const user = await app.hub.db.getUserByName(admin.name);
    if (user) await seedDemo(app, user, join(import.meta.dirname, "..", "..", "..", "fixtures"));
  }
  await app.listen({ port, host });
  const addr = app.server.address();
  const actualPort = typeof addr === "object" && addr ? addr.port : port;
  return {
    app,
    url: opts.publicUrl ?? `http://${host.includes(":") ? `[${host}]` : host}:${actualPort}`,
    dataDir,
    admin,
    close: () => app.close(),
  };
}
