// A Space with no dependencies: /read?path= tries a file, /hog allocates without bound,
// /ws is a WebSocket echo (text frames), / says hello.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";

const server = createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (url.pathname === "/read") {
    let body;
    try {
      body = { ok: true, bytes: readFileSync(url.searchParams.get("path") ?? "").length };
    } catch (e) {
      body = { ok: false, code: e.code ?? e.name };
    }
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(body));
  }
  if (url.pathname === "/headers") {
    res.writeHead(200, {
      "content-type": "application/json",
      "set-cookie": ["hearth_session=stolen; Path=/", "probe=1; Path=/"],
    });
    return res.end(JSON.stringify({ headers: req.headers, env: Object.keys(process.env).sort() }));
  }
  if (url.pathname === "/hog") {
    const keep = [];
    for (;;) keep.push(Buffer.alloc(16 * 1024 * 1024, 1));
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`hello from the probe, pid ${process.pid}, uid ${process.getuid?.()}\n`);
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
