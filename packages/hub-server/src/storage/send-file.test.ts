import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { LocalBlobStore } from "./local-blob-store.ts";
import { sendFileRange, zeroCopyAvailable } from "./send-file.ts";
import { SpoolFile } from "./spool-file.ts";

const addonBuilt = existsSync(new URL("../../build/Release/hearth_hub_server_native.node", import.meta.url));

/** How many descriptors of this process point at `file` (0 where there is no /proc). */
function openOn(file: string): number {
  if (!existsSync("/proc/self/fd")) return 0;
  return readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(join("/proc/self/fd", fd)) === file;
    } catch {
      return false; // closed between the listing and the readlink
    }
  }).length;
}

/** GETs `url` on `agent` and returns the status and body. */
function get(url: string, agent: Agent): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { agent }, (res) => {
      const parts: Buffer[] = [];
      res.on("data", (c: Buffer) => parts.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts) }));
      res.on("error", reject);
    })
      .on("error", reject)
      .end();
  });
}

for (const mode of ["sendfile", "buffers"] as const)
  describe(`sendFileRange (${mode})`, {
    skip: mode === "sendfile" && !addonBuilt && "the sendfile addon is not built (npm install builds it; Linux only)",
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-send-file-"));
    const file = join(dir, "blob");
    // Not a whole number of the 1 MiB read chunks, and more than the pool of four holds.
    const data = randomBytes(5 * 1024 * 1024 + 12345);
    let app: FastifyInstance;
    let url: string;

    const saved = process.env.HEARTH_HUBSERVER_SENDFILE;
    before(async () => {
      process.env.HEARTH_HUBSERVER_SENDFILE = mode === "sendfile" ? "1" : "0";
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
      if (saved === undefined) delete process.env.HEARTH_HUBSERVER_SENDFILE;
      else process.env.HEARTH_HUBSERVER_SENDFILE = saved;
    });

    it("uses sendfile exactly when asked to and built", () => {
      assert.equal(zeroCopyAvailable(), mode === "sendfile");
    });

    it("two answers on one kept-alive connection are framed right", async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const first = await get(`${url}?start=10&end=${2 * 1024 * 1024}`, agent);
        const second = await get(url, agent);
        assert.equal(first.status, 206);
        assert.ok(first.body.equals(data.subarray(10, 2 * 1024 * 1024 + 1)));
        assert.ok(second.body.equals(data));
      } finally {
        agent.destroy();
      }
    });

    it("a file shorter than the announced range cuts the connection instead of sending a short body", async () => {
      await assert.rejects(async () => {
        const res = await fetch(`${url}?start=0&end=${data.length + 5000}`);
        await res.arrayBuffer();
      });
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
      // The abandoned body's file was closed (the sendfile job is cancelled when the client goes).
      for (let i = 0; i < 50 && openOn(file) > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(openOn(file), 0);
    });
  });

/** Cuts `data` into pieces of awkward sizes: tiny, 64 KiB-ish, and larger than one 1 MiB buffer. */
function pieces(data: Buffer): Buffer[] {
  const sizes = [1, 65536, 3, 1024 * 1024 + 17, 70000, 2 * 1024 * 1024 + 1, 5];
  const out: Buffer[] = [];
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = Math.min(sizes[k % sizes.length] as number, data.length - at);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe("LFS object spooling (LocalBlobStore.put through SpoolFile)", () => {
  const root = mkdtempSync(join(tmpdir(), "hearth-spool-"));
  const store = new LocalBlobStore(root);
  // More than the pool of four 1 MiB buffers, and not a whole number of them.
  const data = randomBytes(9 * 1024 * 1024 + 4321);
  const oid = createHash("sha256").update(data).digest("hex");
  const tmpFiles = () => readdirSync(join(root, "tmp"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("stores a node stream of odd-sized pieces byte for byte, and leaves no temp file", async () => {
    // A paused-and-resumed node stream (the request body's type), read in small pieces.
    await store.put(oid, data.length, Readable.from(pieces(data), { highWaterMark: 2 }));
    assert.ok(readFileSync(store.localPath(oid)).equals(data));
    assert.deepEqual(tmpFiles(), []);
  });

  it("an async iterable works too; a tiny object gets a right-sized write", async () => {
    const small = Buffer.from("tiny LFS object");
    const smallOid = createHash("sha256").update(small).digest("hex");
    await store.put(
      smallOid,
      small.length,
      (async function* () {
        yield small.subarray(0, 4);
        yield small.subarray(4);
      })(),
    );
    assert.ok(readFileSync(store.localPath(smallOid)).equals(small));
    const empty = createHash("sha256").digest("hex");
    await store.put(empty, 0, Readable.from([]));
    assert.equal(readFileSync(store.localPath(empty)).length, 0);
  });

  it("wrong bytes, too many bytes, or a body that fails mid-way store nothing and leave no temp file", async () => {
    const other = "0".repeat(64);
    await assert.rejects(store.put(other, data.length, Readable.from(pieces(data))), {
      code: "HEARTH_HUBSERVER_LFS_HASH_MISMATCH",
    });
    await assert.rejects(store.put(oid.replace(/^./, "f"), 1000, Readable.from(pieces(data))), {
      code: "HEARTH_HUBSERVER_TOO_LARGE",
    });
    const broken = new Readable({
      read() {
        this.push(data.subarray(0, 3 * 1024 * 1024));
        this.destroy(new Error("connection reset"));
      },
    });
    await assert.rejects(store.put(oid.replace(/^./, "e"), data.length, broken), /connection reset/);
    const ended = Readable.from(pieces(data)).map((x) => x);
    ended.destroy();
    await assert.rejects(store.put(oid.replace(/^./, "d"), data.length, ended));
    assert.deepEqual(tmpFiles(), []);
    assert.equal(await store.stat(other), undefined);
  });

  it("a failing disk write rejects at the next add or at close, with the file closed", async () => {
    // /dev/full takes the open and fails every write with ENOSPC.
    const out = await SpoolFile.create("/dev/full", 8 * 1024 * 1024);
    let err: unknown;
    try {
      for (const p of pieces(data)) {
        const wait = out.add(p);
        if (wait) await wait;
      }
      await out.close();
    } catch (e) {
      err = e;
      await out.close().catch(() => {});
    }
    assert.equal((err as NodeJS.ErrnoException)?.code, "ENOSPC");
  });
});
