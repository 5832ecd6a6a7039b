/**
 * The bare-socket GET/PUT (src/utils/socket-http.ts) against servers that control the wire
 * byte by byte: heads split across reads, 100 Continue, redirects across hosts, chunked bodies
 * (handed back to node:http), error answers, dropped connections; and a file-range PUT.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fetchToFile } from "../src/download/fetch-to-file.ts";
import { isHubError } from "../src/errors.ts";
import { socketGet, socketPut } from "../src/utils/socket-http.ts";
import { bytes, tmp } from "./helpers.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const never = new AbortController().signal;

/** A TCP server whose connection handler writes raw bytes; returns its base URL. */
async function rawServer(onConnection: (socket: Socket, request: string) => void) {
  const server = createServer((socket) => {
    let req = "";
    socket.on("data", (d) => {
      const had = req.includes("\r\n\r\n");
      req += d.toString("latin1");
      if (!had && req.includes("\r\n\r\n")) onConnection(socket, req);
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, port, close: () => new Promise((r) => server.close(r)) };
}

/** An http server for the higher-level cases. */
async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: { url: string; headers: IncomingMessage["headers"] }[] = [];
  const server = createHttpServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { port, seen, close: () => new Promise((r) => server.close(r)) };
}

const collect = () => {
  const parts: Buffer[] = [];
  return {
    onChunk: (c: Buffer) => {
      parts.push(Buffer.from(c));
    },
    bytes: () => Buffer.concat(parts),
  };
};

describe("socketGet", () => {
  const closers: (() => Promise<unknown>)[] = [];
  after(() => Promise.all(closers.map((c) => c())));

  test("a head split across reads, a 100 Continue first, a body in pieces, bytes past Content-Length ignored", async () => {
    const body = bytes(300_000, 9);
    const srv = await rawServer((s) => {
      s.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Le");
      setTimeout(() => {
        s.write(`ngth: ${body.length}\r\nX-Thing: a\r\nX-Thing: b\r\n\r\n`);
        s.write(body.subarray(0, 1000));
        setTimeout(() => s.end(Buffer.concat([body.subarray(1000), Buffer.from("GARBAGE")])), 20);
      }, 20);
    });
    closers.push(srv.close);
    const c = collect();
    let head: Record<string, string> = {};
    const r = await socketGet(`${srv.url}/f`, {}, never, {
      onHead: (_s, h) => {
        head = h;
        return true;
      },
      onChunk: c.onChunk,
    });
    assert.deepEqual(r, { status: 200, bodyRead: true });
    assert.ok(c.bytes().equals(body));
    assert.equal(head["x-thing"], "a, b");
  });

  test("redirects are followed and the token is dropped when the host changes", async () => {
    const body = Buffer.from("payload");
    const storage = await httpServer((_req, res) => {
      res.writeHead(200, { "content-length": String(body.length) });
      res.end(body);
    });
    closers.push(storage.close);
    // 127.0.0.1 -> same host (keeps the token) -> localhost (another host: no token).
    const hub = await httpServer((req, res) => {
      if (req.url === "/a") res.writeHead(302, { location: "/b" }).end();
      else res.writeHead(307, { location: `http://localhost:${storage.port}/blob` }).end();
    });
    closers.push(hub.close);
    const c = collect();
    await socketGet(`http://127.0.0.1:${hub.port}/a`, { authorization: "Bearer hf_secret" }, never, c);
    assert.ok(c.bytes().equals(body));
    assert.deepEqual(
      hub.seen.map((s) => [s.url, s.headers.authorization]),
      [
        ["/a", "Bearer hf_secret"],
        ["/b", "Bearer hf_secret"],
      ],
    );
    assert.equal(storage.seen[0].headers.authorization, undefined);
    assert.equal(storage.seen[0].headers["accept-encoding"], "identity");
  });

  test("error answers become coded errors with the hub's message; accepted statuses are handed back", async () => {
    const srv = await httpServer((req, res) => {
      if (req.url === "/gone") {
        res.writeHead(404, {
          "content-type": "application/json",
          "x-error-code": "EntryNotFound",
          "x-repo-commit": "a".repeat(40),
        });
        res.end(JSON.stringify({ error: "no such file" }));
      } else res.writeHead(416, { "content-range": "bytes */10" }).end();
    });
    closers.push(srv.close);
    await assert.rejects(
      socketGet(`http://127.0.0.1:${srv.port}/gone`, {}, never, collect()),
      (e) =>
        isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND") &&
        e.status === 404 &&
        e.repoCommit === "a".repeat(40) &&
        /no such file/.test(e.message),
    );
    const r = await socketGet(`http://127.0.0.1:${srv.port}/range`, {}, never, { ...collect(), accept: [416] });
    assert.deepEqual(r, { status: 416, bodyRead: false });
  });

  test("a chunked or encoded body is not read here ('unsupported')", async () => {
    const srv = await httpServer((req, res) => {
      if (req.url === "/gz") res.writeHead(200, { "content-encoding": "gzip", "content-length": "3" }).end("abc");
      else {
        res.writeHead(200); // no length: node:http frames it with Transfer-Encoding: chunked
        res.write("ab");
        res.end("c");
      }
    });
    closers.push(srv.close);
    const c = collect();
    assert.equal(await socketGet(`http://127.0.0.1:${srv.port}/chunked`, {}, never, c), "unsupported");
    assert.equal(await socketGet(`http://127.0.0.1:${srv.port}/gz`, {}, never, c), "unsupported");
    assert.equal(c.bytes().length, 0);
  });

  test("a connection dropped mid-body rejects as HEARTH_HUB_NETWORK after delivering what came", async () => {
    const srv = await rawServer((s) => {
      s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
      s.end(Buffer.alloc(400, 1));
    });
    closers.push(srv.close);
    const c = collect();
    await assert.rejects(
      socketGet(`${srv.url}/x`, {}, never, c),
      (e) => isHubError(e, "HEARTH_HUB_NETWORK") && /600 body bytes still to come/.test(e.message),
    );
    assert.equal(c.bytes().length, 400);
  });

  test("https: the same reads over TLS (a throwaway self-signed certificate made with openssl)", async (t) => {
    const dir = tmp();
    const made = spawnSync(
      "openssl",
      ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"].concat([
        "-subj",
        "/CN=localhost",
        "-keyout",
        join(dir.dir, "k.pem"),
        "-out",
        join(dir.dir, "c.pem"),
      ]),
      { stdio: "ignore" },
    );
    if (made.status !== 0) {
      dir.cleanup();
      t.skip("no openssl command to make a test certificate");
      return;
    }
    const body = bytes(2_000_000, 12);
    const server = createHttpsServer(
      { key: readFileSync(join(dir.dir, "k.pem")), cert: readFileSync(join(dir.dir, "c.pem")) },
      (_req, res) => {
        res.writeHead(200, { "content-length": String(body.length) });
        res.end(body);
      },
    );
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const old = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0"; // the certificate is self-signed
    try {
      const c = collect();
      const port = (server.address() as { port: number }).port;
      assert.deepEqual(await socketGet(`https://localhost:${port}/x`, {}, never, c), { status: 200, bodyRead: true });
      assert.ok(c.bytes().equals(body));
    } finally {
      if (old === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = old;
      await new Promise((r) => server.close(r));
      dir.cleanup();
    }
  });

  test("an abort signal ends the transfer", async () => {
    const srv = await rawServer((s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nxx")); // then silence
    closers.push(srv.close);
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error("stop")), 50);
    await assert.rejects(socketGet(`${srv.url}/x`, {}, ac.signal, collect()), /stop/);
  });
});

describe("fetchToFile over the socket", () => {
  /** The whole of `data` from the server's /blob into `dest`, checked against its sha256. */
  const download = (port: number, dest: string, data: Buffer) =>
    fetchToFile({
      ctx: { endpoint: "", fetch: globalThis.fetch },
      url: `http://127.0.0.1:${port}/blob`,
      auth: false,
      dest,
      expectedSize: data.length,
      etag: sha256(data),
      path: "x",
    });

  test("a server answering chunked falls back to node:http and the bytes still verify", async () => {
    const data = bytes(200_000, 4);
    const srv = await httpServer((_req, res) => {
      res.writeHead(200);
      res.write(data.subarray(0, 50_000));
      res.end(data.subarray(50_000));
    });
    const t = tmp();
    try {
      const dest = join(t.dir, "x.incomplete");
      await download(srv.port, dest, data);
      assert.ok(readFileSync(dest).equals(data));
      assert.equal(srv.seen.length, 2, "one socket attempt, then node:http");
    } finally {
      t.cleanup();
      await srv.close();
    }
  });

  test("a server that ignores Range restarts from byte 0 and the result verifies", async () => {
    const data = bytes(100_000, 6);
    const srv = await httpServer((_req, res) => {
      res.writeHead(200, { "content-length": String(data.length) });
      res.end(data);
    });
    const t = tmp();
    try {
      const dest = join(t.dir, "x.incomplete");
      writeFileSync(dest, data.subarray(0, 30_000));
      await download(srv.port, dest, data);
      assert.ok(readFileSync(dest).equals(data));
      assert.deepEqual(
        srv.seen.map((s) => s.headers.range),
        ["bytes=30000-", undefined],
      );
    } finally {
      t.cleanup();
      await srv.close();
    }
  });
});

describe("socketPut", () => {
  test("sends exactly the file range, returns the answer's headers; errors are coded", async () => {
    const t = tmp();
    const data = bytes(3_500_000, 8); // several 1 MiB reads, a short last one
    const file = join(t.dir, "f.bin");
    writeFileSync(file, data);
    const got: Buffer[] = [];
    const srv = await httpServer((req, res) => {
      if (req.url === "/deny") {
        req.resume();
        res.writeHead(403, { "content-type": "application/json" }).end(JSON.stringify({ error: "bad signature" }));
        return;
      }
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        got.push(Buffer.concat(parts));
        res.writeHead(200, { etag: '"abc"' }).end("{}");
      });
    });
    try {
      let counted = 0;
      const h = await socketPut(
        `http://127.0.0.1:${srv.port}/up`,
        { "content-type": "application/octet-stream" },
        { path: file, start: 1000, end: 3_400_000 },
        undefined,
        (n) => {
          counted += n;
        },
      );
      assert.equal(h.get("etag"), '"abc"');
      assert.ok(got[0].equals(data.subarray(1000, 3_400_000)));
      assert.equal(counted, 3_399_000);
      assert.equal(srv.seen[0].headers["content-length"], "3399000");
      await assert.rejects(
        socketPut(`http://127.0.0.1:${srv.port}/deny`, {}, { path: file, start: 0, end: data.length }, undefined),
        (e) => isHubError(e, "HEARTH_HUB_FORBIDDEN") && /bad signature/.test(e.message),
      );
      await assert.rejects(
        socketPut(`http://127.0.0.1:${srv.port}/up`, {}, { path: join(t.dir, "missing"), start: 0, end: 5 }, undefined),
        /ENOENT/,
      );
    } finally {
      t.cleanup();
      await srv.close();
    }
  });
});
