/**
 * Forwarding requests to a Space app (on 127.0.0.1, or through the Unix socket of the bridge
 * into its network namespace): plain HTTP (streamed both ways) and
 * WebSocket upgrades (raw sockets). The hub's credentials never reach the app: `Authorization`
 * and the hub session cookie are removed, and the app may not set the hub session cookie.
 */
import { type IncomingMessage, request, type ServerResponse } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import { SESSION_COOKIE } from "../plugins/auth.ts";
import type { AppTarget } from "./manager.ts";

const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "authorization",
]);

/** With a shared origin, the app's pages run as an opaque origin: no access to hub cookies or same-origin APIs. */
export const SANDBOX_CSP = "sandbox allow-scripts allow-forms allow-popups allow-downloads allow-modals";

function forwardHeaders(req: IncomingMessage, prefix: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP.has(k)) continue;
    if (k === "cookie") {
      const kept = String(v)
        .split(";")
        .map((c) => c.trim())
        .filter((c) => c && !c.startsWith(`${SESSION_COOKIE}=`));
      if (kept.length) out.cookie = kept.join("; ");
      continue;
    }
    out[k] = v;
  }
  out["x-forwarded-host"] = req.headers.host ?? "";
  out["x-forwarded-proto"] = "http";
  out["x-forwarded-prefix"] = prefix;
  return out;
}

function cleanResponseHeaders(h: IncomingMessage["headers"], sandbox: boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || (HOP.has(k) && k !== "transfer-encoding")) continue;
    if (k === "transfer-encoding") continue;
    if (k === "set-cookie") {
      const kept = (Array.isArray(v) ? v : [v]).filter((c) => !c.trim().startsWith(`${SESSION_COOKIE}=`));
      if (kept.length) out[k] = kept;
      continue;
    }
    out[k] = v;
  }
  if (sandbox) out["content-security-policy"] = SANDBOX_CSP;
  return out;
}

/** Streams `req` to the app at `to` as `path` (with query) and its answer back to `res`. */
export function proxyHttp(
  req: IncomingMessage,
  res: ServerResponse,
  to: AppTarget,
  path: string,
  opts: { prefix: string; sandbox: boolean },
): Promise<void> {
  return new Promise((resolve) => {
    const up = request(
      {
        ...(to.socketPath ? { socketPath: to.socketPath } : { host: "127.0.0.1", port: to.port }),
        method: req.method,
        path,
        headers: forwardHeaders(req, opts.prefix),
      },
      (ures) => {
        res.writeHead(ures.statusCode ?? 502, cleanResponseHeaders(ures.headers, opts.sandbox));
        ures.pipe(res);
        ures.on("end", () => resolve());
        ures.on("error", () => {
          res.destroy();
          resolve();
        });
      },
    );
    up.on("error", (e) => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "text/plain; charset=utf-8" });
        res.end(`The Space app did not answer: ${e.message}\n`);
      } else res.destroy();
      resolve();
    });
    req.pipe(up);
  });
}

/** Forwards a WebSocket (or any) upgrade to the app: the request head, then raw bytes both ways. */
export function proxyUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  to: AppTarget,
  path: string,
  prefix: string,
  /** Called on traffic either way (keeps an app with an open WebSocket from sleeping). */
  onActivity: () => void = () => {},
): void {
  socket.on("data", onActivity);
  const onConnect = () => {
    const headers = forwardHeaders(req, prefix);
    headers.connection = "Upgrade";
    headers.upgrade = req.headers.upgrade ?? "websocket";
    let text = `${req.method} ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) text += `${k}: ${x}\r\n`;
    up.write(`${text}\r\n`);
    if (head.length) up.write(head);
    up.on("data", onActivity);
    up.pipe(socket);
    socket.pipe(up);
  };
  const up = to.socketPath ? connect(to.socketPath, onConnect) : connect(to.port, "127.0.0.1", onConnect);
  const close = () => {
    up.destroy();
    socket.destroy();
  };
  up.on("error", () => {
    if (socket.writable) socket.end("HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n");
    close();
  });
  socket.on("error", close);
  socket.on("close", () => up.destroy());
}
