/**
 * git-lfs batch API (basic + HF multipart) and the self-authorising upload/download hrefs it
 * hands out (hub-api.md §6.3, §7.3). Bytes are hashed while they stream in and an object is
 * stored only when its sha256 and size match.
 */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { RepoRow, RepoType } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { askForBasic } from "../plugins/auth.ts";
import { isSha256 } from "../storage/blob-store.ts";
import { sendBlob } from "../storage/send-file.ts";
import { parseRange } from "./resolve.ts";

const LFS_JSON = "application/vnd.git-lfs+json";
const DAY = 24 * 3600;

interface BatchBody {
  operation?: unknown;
  transfers?: unknown;
  objects?: unknown;
  hash_algo?: unknown;
}

export async function lfsRoutes(app: FastifyInstance): Promise<void> {
  const lfsError = (reply: FastifyReply, status: number, message: string) =>
    reply.code(status).type(LFS_JSON).send({ message, request_id: reply.request.id });

  /** Finds the repo for an LFS/git URL and checks access, answering like git-lfs expects. */
  async function lfsRepo(
    req: FastifyRequest,
    reply: FastifyReply,
    type: RepoType,
    ns: string,
    rawName: string,
    write: boolean,
  ): Promise<RepoRow | undefined> {
    const name = rawName.replace(/\.git$/, "");
    if (req.badCredentials) {
      askForBasic(reply, "Invalid credentials");
      return undefined;
    }
    const r = await app.hub.db.getRepo(type, ns, name);
    const visible = r && (await app.hub.repos.canRead(req.caller, r));
    if (!r || !visible) {
      if (!req.caller) askForBasic(reply, "Repository not found (or private): authentication required");
      else lfsError(reply, 404, `Repository not found: ${ns}/${name}`);
      return undefined;
    }
    if (write) {
      if (!req.caller) {
        askForBasic(reply, "Pushing LFS objects needs a write token as the Basic password");
        return undefined;
      }
      if (!(await app.hub.repos.canWrite(req.caller, r))) {
        lfsError(
          reply,
          403,
          `${req.caller.user.name} may not write to ${ns}/${name}${req.caller.role === "read" ? " with a read token" : ""}`,
        );
        return undefined;
      }
    }
    return r;
  }

  async function batch(
    req: FastifyRequest<{ Body: BatchBody }>,
    reply: FastifyReply,
    type: RepoType,
    ns: string,
    name: string,
  ) {
    const body = (req.body ?? {}) as BatchBody;
    if (body.operation !== "upload" && body.operation !== "download")
      return lfsError(reply, 422, "LFS batch: operation must be 'upload' or 'download'");
    if (body.hash_algo !== undefined && body.hash_algo !== "sha256" && body.hash_algo !== "sha_256")
      return lfsError(reply, 409, `LFS batch: unsupported hash_algo ${JSON.stringify(body.hash_algo)}`);
    if (!Array.isArray(body.objects)) return lfsError(reply, 422, "LFS batch: objects must be an array");
    const r = await lfsRepo(req, reply, type, ns, name, body.operation === "upload");
    if (!r) return reply;
    if (body.operation === "download") {
      const gate = await app.hub.repos.checkGate(req.caller, r).then(
        () => undefined,
        (e: Error) => e,
      );
      if (gate) return req.caller ? lfsError(reply, 403, gate.message) : askForBasic(reply, gate.message);
    }
    const transfers = Array.isArray(body.transfers) ? body.transfers : ["basic"];
    const multipartOffered = transfers.includes("multipart");
    const base = app.hub.baseUrl(req);
    const { signer, blobs } = app.hub;
    const limits = app.hub.repos.limits;
    let usedMultipart = false;
    const objects = await Promise.all(
      (body.objects as Array<{ oid?: unknown; size?: unknown }>).map(async (o) => {
        const oid = o?.oid;
        const size = o?.size;
        if (!isSha256(oid) || !Number.isSafeInteger(size) || (size as number) < 0) {
          return {
            oid: String(oid),
            size: Number(size) || 0,
            error: { code: 422, message: "oid must be a 64-hex sha256 and size a non-negative integer" },
          };
        }
        const n = size as number;
        const stored = await blobs.stat(oid);
        if (body.operation === "download") {
          if (!stored) return { oid, size: n, error: { code: 404, message: `Object ${oid} does not exist` } };
          return {
            oid,
            size: stored.size,
            authenticated: true,
            actions: {
              download: {
                href: `${base}/api/lfs/objects/${oid}?t=${signer.sign({ o: oid, k: "dl" }, DAY)}`,
                expires_in: DAY,
              },
            },
          };
        }
        if (stored && stored.size === n) return { oid, size: n };
        if (n > limits.maxLfsFileSize)
          return {
            oid,
            size: n,
            error: { code: 422, message: `Object of ${n} bytes is over the ${limits.maxLfsFileSize}-byte limit` },
          };
        const verify = {
          href: `${base}/api/lfs/verify/${signer.sign({ o: oid, s: n, k: "vf" }, DAY)}`,
          expires_in: DAY,
        };
        if (multipartOffered && n > limits.multipartThreshold) {
          usedMultipart = true;
          const chunk = limits.multipartChunkSize;
          const parts = Math.ceil(n / chunk);
          const token = signer.sign(
            { o: oid, s: n, k: "mp", u: randomBytes(16).toString("hex"), c: chunk, n: parts },
            DAY,
          );
          const header: Record<string, string> = { chunk_size: String(chunk) };
          for (let i = 1; i <= parts; i++) header[String(i)] = `${base}/api/lfs/upload/${token}/part/${i}`;
          return {
            oid,
            size: n,
            authenticated: true,
            actions: { upload: { href: `${base}/api/lfs/upload/${token}/complete`, header, expires_in: DAY }, verify },
          };
        }
        const token = signer.sign({ o: oid, s: n, k: "up" }, DAY);
        return {
          oid,
          size: n,
          authenticated: true,
          actions: { upload: { href: `${base}/api/lfs/upload/${token}`, expires_in: DAY }, verify },
        };
      }),
    );
    return reply.type(LFS_JSON).send({ transfer: usedMultipart ? "multipart" : "basic", objects, hash_algo: "sha256" });
  }

  type P = { ns: string; name: string };
  const prefixes: Array<[string, RepoType]> = [
    ["", "model"],
    ["/models", "model"],
    ["/datasets", "dataset"],
    ["/spaces", "space"],
  ];
  for (const [prefix, type] of prefixes) {
    app.post<{ Params: P; Body: BatchBody }>(`${prefix}/:ns/:name/info/lfs/objects/batch`, (req, reply) =>
      batch(req, reply, type, req.params.ns, req.params.name),
    );
    app.post<{ Params: P }>(`${prefix}/:ns/:name/info/lfs/locks/verify`, async (req, reply) => {
      const r = await lfsRepo(req, reply, type, req.params.ns, req.params.name, true);
      if (!r) return reply;
      return reply.type(LFS_JSON).send({ ours: [], theirs: [] });
    });
    app.get<{ Params: P }>(`${prefix}/:ns/:name/info/lfs/locks`, async (req, reply) => {
      const r = await lfsRepo(req, reply, type, req.params.ns, req.params.name, false);
      if (!r) return reply;
      return reply.type(LFS_JSON).send({ locks: [] });
    });
    app.post<{ Params: P }>(`${prefix}/:ns/:name/info/lfs/locks`, async (_req, reply) =>
      lfsError(reply, 501, "LFS file locking is not supported by this hub"),
    );
  }

  app.route<{ Params: { oid: string }; Querystring: { t?: string } }>({
    method: ["GET", "HEAD"],
    url: "/api/lfs/objects/:oid",
    exposeHeadRoute: false,
    handler: async (req, reply) => {
      const p = app.hub.signer.verify(req.query.t ?? "");
      if (p?.k !== "dl" || p.o !== req.params.oid)
        throw hubError(
          "HEARTH_HUBSERVER_FORBIDDEN",
          "LFS download: the link is invalid or expired; ask the batch API for a new one",
        );
      const stat = await app.hub.blobs.stat(req.params.oid);
      if (!stat) throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `LFS download: object ${req.params.oid} is not stored`);
      const range = parseRange(req.headers.range, stat.size);
      if (range === "bad")
        throw hubError(
          "HEARTH_HUBSERVER_RANGE_NOT_SATISFIABLE",
          `LFS download: Range '${req.headers.range}' is outside ${stat.size} bytes`,
          { headers: { "Content-Range": `bytes */${stat.size}` } },
        );
      reply.header("ETag", `"${req.params.oid}"`).header("Accept-Ranges", "bytes").type("application/octet-stream");
      if (range) reply.code(206).header("Content-Range", `bytes ${range.start}-${range.end}/${stat.size}`);
      reply.header("Content-Length", String(range ? range.end - range.start + 1 : stat.size));
      if (req.method === "HEAD") return reply.send();
      return sendBlob(reply, app.hub.blobs, req.params.oid, stat.size, range);
    },
  });

  app.post<{ Params: { token: string } }>("/api/lfs/verify/:token", async (req, reply) => {
    const p = app.hub.signer.verify(req.params.token);
    if (p?.k !== "vf") throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "LFS verify: the link is invalid or expired");
    const stat = await app.hub.blobs.stat(String(p.o));
    if (!stat) return lfsError(reply, 404, `LFS verify: object ${p.o} was not uploaded`);
    if (stat.size !== p.s)
      return lfsError(reply, 422, `LFS verify: object ${p.o} has ${stat.size} bytes, expected ${p.s}`);
    return reply.type(LFS_JSON).send({ oid: p.o, size: stat.size });
  });

  // Upload endpoints take the raw body as a stream, whatever its content type.
  await app.register(async (raw) => {
    raw.removeAllContentTypeParsers();
    raw.addContentTypeParser("*", (_req, payload, done) => done(null, payload));

    raw.put<{ Params: { token: string } }>("/api/lfs/upload/:token", async (req, reply) => {
      const p = app.hub.signer.verify(req.params.token);
      if (p?.k !== "up")
        throw hubError(
          "HEARTH_HUBSERVER_FORBIDDEN",
          "LFS upload: the link is invalid or expired; ask the batch API for a new one",
        );
      const declared = Number(req.headers["content-length"] ?? p.s);
      if (declared !== p.s)
        throw hubError(
          "HEARTH_HUBSERVER_LFS_HASH_MISMATCH",
          `LFS upload: Content-Length ${declared} differs from the ${p.s} bytes announced for ${p.o}`,
        );
      await app.hub.blobs.put(
        String(p.o),
        Number(p.s),
        (req.body as AsyncIterable<Uint8Array> | undefined) ?? emptyStream(),
      );
      return reply.code(200).send();
    });

    raw.put<{ Params: { token: string; part: string } }>("/api/lfs/upload/:token/part/:part", async (req, reply) => {
      const p = app.hub.signer.verify(req.params.token);
      if (p?.k !== "mp") throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "LFS multipart: the link is invalid or expired");
      const part = Number(req.params.part);
      if (!Number.isInteger(part) || part < 1 || part > Number(p.n))
        throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `LFS multipart: part ${req.params.part} is outside 1..${p.n}`);
      const etag = await app.hub.blobs.putPart(
        String(p.u),
        part,
        Number(p.c),
        (req.body as AsyncIterable<Uint8Array> | undefined) ?? emptyStream(),
      );
      return reply.header("ETag", etag).code(200).send();
    });

    raw.post<{ Params: { token: string } }>("/api/lfs/upload/:token/complete", async (req, reply) => {
      const p = app.hub.signer.verify(req.params.token);
      if (p?.k !== "mp")
        throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "LFS multipart completion: the link is invalid or expired");
      const chunks: Buffer[] = [];
      for await (const c of (req.body as AsyncIterable<Buffer> | undefined) ?? emptyStream())
        chunks.push(Buffer.from(c));
      let body: { oid?: unknown; parts?: Array<{ partNumber?: unknown; etag?: unknown }> };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", "LFS multipart completion: body must be JSON {oid, parts}");
      }
      if (body.oid !== p.o)
        throw hubError(
          "HEARTH_HUBSERVER_BAD_REQUEST",
          `LFS multipart completion: oid ${String(body.oid)} does not match the upload's ${p.o}`,
        );
      if (!Array.isArray(body.parts) || body.parts.length !== Number(p.n))
        throw hubError(
          "HEARTH_HUBSERVER_BAD_REQUEST",
          `LFS multipart completion: expected ${p.n} parts, got ${Array.isArray(body.parts) ? body.parts.length : "none"}`,
        );
      await app.hub.blobs.completeMultipart(String(p.u), String(p.o), Number(p.s), Number(p.n));
      return reply.type(LFS_JSON).send({ oid: p.o, size: p.s });
    });
  });
}

async function* emptyStream(): AsyncIterable<Uint8Array> {}
