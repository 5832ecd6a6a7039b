/**
 * `buildApp(opts)`: the whole hub as a fastify instance, not listening (see server.ts).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { UrlSigner } from "./auth/credentials.ts";
import { openDatabase } from "./db/index.ts";
import type { HubDatabase } from "./db/types.ts";
import { hubError } from "./errors.ts";
import { authPlugin } from "./plugins/auth.ts";
import { contextPlugin } from "./plugins/context.ts";
import { errorsPlugin } from "./plugins/errors.ts";
import { DownloadCounter } from "./repos/download-counter.ts";
import { type HubLimits, RepoService } from "./repos/service.ts";
import { gitRoutes } from "./routes/git.ts";
import { infoRoutes } from "./routes/info.ts";
import { lfsRoutes } from "./routes/lfs.ts";
import { refsRoutes } from "./routes/refs.ts";
import { reposRoutes } from "./routes/repos.ts";
import { resolveRoutes } from "./routes/resolve.ts";
import { spacesRoutes } from "./routes/spaces.ts";
import { treeRoutes } from "./routes/tree.ts";
import { uiRoutes } from "./routes/ui.ts";
import { uploadRoutes } from "./routes/upload.ts";
import { usersRoutes } from "./routes/users.ts";
import { SpaceManager, type SpacesOptions } from "./spaces/manager.ts";
import type { BlobStore } from "./storage/blob-store.ts";
import { LocalBlobStore } from "./storage/local-blob-store.ts";

export interface BuildAppOptions {
  /** Folder holding repos/, lfs/, hub.sqlite and the signing secret. Created if missing. */
  dataDir: string;
  /** Public base URL (e.g. `https://hub.example.org`); default: derived from each request's Host. */
  publicUrl?: string;
  /** Metadata store; default SQLite under dataDir (or `HEARTH_DATABASE_URL`). */
  database?: HubDatabase;
  /** LFS object store; default the local filesystem under dataDir/lfs. */
  blobs?: BlobStore;
  limits?: Partial<HubLimits>;
  /** Largest request body (commit NDJSON) in bytes. Default 64 MiB. */
  bodyLimit?: number;
  /** fastify logger; default off. */
  logger?: boolean;
  /** Spaces runtime options (static and node Spaces), or `false` to serve Space repos as plain repos. */
  spaces?: SpacesOptions | false;
}

export const defaultLimits: HubLimits = {
  maxRegularFileSize: 10 * 1024 * 1024,
  lfsThreshold: 10 * 1024 * 1024,
  maxLfsFileSize: 50 * 1024 ** 3,
  multipartThreshold: 64 * 1024 * 1024,
  multipartChunkSize: 16 * 1024 * 1024,
};

async function signingKey(dataDir: string): Promise<Buffer> {
  const file = join(dataDir, "secret");
  try {
    return Buffer.from((await readFile(file, "utf8")).trim(), "hex");
  } catch {
    const key = randomBytes(32);
    await writeFile(file, key.toString("hex"), { mode: 0o600 });
    await chmod(file, 0o600);
    return key;
  }
}

function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * Builds the hub: API, git smart HTTP, LFS and web UI on one fastify instance.
 * @example
 * const app = await buildApp({ dataDir: "./.hearth" });
 * await app.listen({ port: 8080, host: "127.0.0.1" });
 */
export async function buildApp(opts: BuildAppOptions): Promise<FastifyInstance> {
  const dataDir = resolve(opts.dataDir);
  await mkdir(join(dataDir, "repos"), { recursive: true });
  const limits = { ...defaultLimits, ...opts.limits };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isSafeInteger(v) || v <= 0)
      throw hubError("HEARTH_HUBSERVER_CONFIG", `buildApp: limits.${k} must be a positive integer, got ${v}`);
  }
  const db = opts.database ?? openDatabase(dataDir, process.env.HEARTH_DATABASE_URL);
  const blobs = opts.blobs ?? new LocalBlobStore(join(dataDir, "lfs"));
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit ?? 64 * 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers["x-request-id"] ?? req.headers["x-amzn-trace-id"];
      return typeof given === "string" && /^[\w=;.:-]{1,200}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 1000 },
    ajv: { customOptions: { coerceTypes: "array", removeAdditional: false } },
  });
  app.addContentTypeParser(["application/vnd.git-lfs+json"], { parseAs: "string" }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (e) {
      done(
        hubError("HEARTH_HUBSERVER_BAD_REQUEST", `LFS batch: body is not JSON (${(e as Error).message})`),
        undefined,
      );
    }
  });
  app.addContentTypeParser(["application/x-ndjson"], { parseAs: "string" }, (_req, body, done) => done(null, body));
  app.addContentTypeParser(["application/x-www-form-urlencoded"], { parseAs: "string" }, (_req, body, done) =>
    done(null, parseForm(body as string)),
  );
  const downloads = new DownloadCounter(db);
  app.addHook("onClose", async () => {
    await downloads.flush();
    await db.close();
  });

  const repos = new RepoService(db, blobs, dataDir, limits);
  let spaces: SpaceManager | undefined;
  if (opts.spaces !== false) {
    spaces = new SpaceManager(db, repos, blobs, dataDir, opts.spaces ?? {});
    await spaces.init();
    const manager = spaces;
    repos.listeners.updated.push((r) => manager.onUpdated(r));
    repos.listeners.removed.push((r) => manager.onRemoved(r));
    app.addHook("onClose", () => manager.close());
  }

  await app.register(errorsPlugin);
  await app.register(contextPlugin, {
    hub: {
      db,
      blobs,
      repos,
      spaces,
      signer: new UrlSigner(await signingKey(dataDir)),
      downloads,
      dataDir,
      publicUrl: opts.publicUrl?.replace(/\/+$/, ""),
    },
  });
  await app.register(authPlugin);
  await app.register(usersRoutes);
  await app.register(reposRoutes);
  await app.register(infoRoutes);
  await app.register(treeRoutes);
  await app.register(refsRoutes);
  await app.register(resolveRoutes);
  await app.register(uploadRoutes);
  await app.register(lfsRoutes);
  await app.register(gitRoutes);
  if (spaces) await app.register(spacesRoutes);
  await app.register(uiRoutes);
  return app;
}
