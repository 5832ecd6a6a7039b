// A Space with no dependencies that probes its sandbox:
//   /read?path=        tries to read a file          /headers   what the app receives
//   /connect?port=&host= or ?path=   tries a TCP or Unix-socket connection
//   /fill              writes one file in data/ without bound
//   /fill-many         writes 1 MiB files in data/ until the disk says no
//   /hog               allocates without bound       /crash     exits with code 3
//   /secret            sha256 of SECRET_TOKEN        /ws        a WebSocket echo (text frames)
//   /                  says hello (and GREETING, a variable)
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import { connect } from "node:net";
import { join } from "node:path";

console.log(`secret seen by the app: ${process.env.SECRET_TOKEN ?? "(none)"}`);
const data = join(process.cwd(), "data");
const MiB = Buffer.alloc(1024 * 1024, 7);

/** Writes 1 MiB chunks to `file` until a write fails (or `max` chunks); returns how far it got. */
function fill(file, max = Number.POSITIVE_INFINITY) {
  let bytes = 0;
  const fd = openSync(file, "w");
  try {
    for (let i = 0; i < max; i++) bytes += writeSync(fd, MiB);
    return { ok: true, bytes };
  } catch (e) {
    return { ok: false, code: e.code ?? e.name, bytes };
  } finally {
    closeSync(fd);
  }
}

const routes = {
  "/read": (q) => {
    try {
      return { ok: true, bytes: readFileSync(q.get("path") ?? "").length };
    } catch (e) {
      return { ok: false, code: e.code ?? e.name };
    }
  },
  "/connect": (q) =>
    new Promise((resolve) => {
      const path = q.get("path");
      const sock = path ? connect(path) : connect(Number(q.get("port")), q.get("host") ?? "127.0.0.1");
      sock.setTimeout(3000, () => sock.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
      sock.once("connect", () => {
        sock.destroy();
        resolve({ ok: true });
      });
      sock.once("error", (e) => resolve({ ok: false, code: e.code ?? e.name }));
    }),
  "/fill": () => fill(join(data, "big.bin")),
  "/fill-many": () => {
    let bytes = 0;
    for (let i = 0; ; i++) {
      const r = fill(join(data, `part-${i}.bin`), 1);
      bytes += r.bytes;
      if (!r.ok) return { ok: false, code: r.code, bytes, files: i };
    }
  },
  "/secret": () => ({
    sha256: process.env.SECRET_TOKEN ? createHash("sha256").update(process.env.SECRET_TOKEN).digest("hex") : null,
  }),
  "/crash": () => process.exit(3),
  "/hog": () => {
    const keep = [];
    for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1));
  },
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/headers") {
    res.writeHead(200, {
      "content-type": "application/json",
      "set-cookie": ["hearth_session=stolen; Path=/", "probe=1; Path=/"],
    });
    return res.end(JSON.stringify({ headers: req.headers, env: Object.keys(process.env).sort() }));
  }
  const route = routes[url.pathname];
  if (route) {
    const body = await route(url.searchParams);
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(body));
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`hello from the probe, pid ${process.pid}, uid ${process.getuid?.()}, greeting ${process.env.GREETING}\n`);
});

server.on("upgrade", (req, socket) => {
  const accept = createHash("sha1")
    .update(`${req.headers["sec-websocket-key"]}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
    .digest("base64");
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
  socket.on("data", (buf) => {
    // one small masked client text frame -> one unmasked server frame "echo: <text>"
    const len = buf[1] & 0x7f;
    const mask = buf.subarray(2, 6);
    const text = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4])).toString();
    const out = Buffer.from(`echo: ${text}`);
    socket.write(Buffer.concat([Buffer.from([0x81, out.length]), out]));
  });
});

server.listen(Number(process.env.PORT), "127.0.0.1", () => console.log(`probe listening on ${process.env.PORT}`));
