import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { sendFileRange } from "./send-file.ts";

describe("sendFileRange", () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-send-file-"));
  const file = join(dir, "blob");
  // Not a whole number of the 1 MiB read chunks, and more than the pool of four holds.
  const data = randomBytes(5 * 1024 * 1024 + 12345);
  let app: FastifyInstance;
  let url: string;

  before(async () => {
    writeFileSync(file, data);
    app = Fastify();
    app.get<{ Querystring: { start?: string; end?: string; path?: string } }>("/f", async (req, reply) => {
      const start = Number(req.query.start ?? 0);
      const end = Number(req.query.end ?? data.length - 1);
      reply.header("X-Set-Before", "yes").header("Content-Length", String(end - start + 1));
      if (req.query.start) reply.code(206);
      await sendFileRange(reply, req.query.path ?? file, start, end);
      return reply;
    });
    await app.listen({ port: 0, host: "127.0.0.1" });
    url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/f`;
  });
  after(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the whole file with the headers and status set before", async () => {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-set-before"), "yes");
    assert.equal(res.headers.get("content-length"), String(data.length));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  });

  it("sends a range across read-chunk boundaries, and an empty range", async () => {
    const start = 1024 * 1024 - 7;
    const end = 3 * 1024 * 1024 + 100;
    const res = await fetch(`${url}?start=${start}&end=${end}`);
    assert.equal(res.status, 206);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(start, end + 1)));
    const empty = await fetch(`${url}?start=5&end=4`);
    assert.equal((await empty.arrayBuffer()).byteLength, 0);
  });

  it("a file that cannot be opened is a normal error answer", async () => {
    const res = await fetch(`${url}?path=${encodeURIComponent(join(dir, "missing"))}`);
    assert.equal(res.status, 500);
  });

  it("a client that goes away mid-body leaves the server serving", async () => {
    await new Promise<void>((resolve, reject) => {
      const req = request(url, (res) => {
        res.once("data", () => {
          req.destroy();
          resolve();
        });
      });
      req.on("error", (err) => ((err as NodeJS.ErrnoException).code === "ECONNRESET" ? undefined : reject(err)));
      req.end();
    });
    const res = await fetch(`${url}?start=0&end=99`);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data.subarray(0, 100)));
  });
});
