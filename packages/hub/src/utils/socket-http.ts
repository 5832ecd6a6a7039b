/**
 * Minimal HTTP/1.1 for large file bodies on a bare net/tls socket: a GET whose reads land
 * straight in one reused buffer (the `onread` option of `net.connect`/`tls.connect`), with no
 * stream, no per-read Buffer allocation and no HTTP parser between the socket and the caller;
 * and a PUT that sends a file range with synchronous 1 MiB reads from a small buffer pool.
 *
 * Why: node:http hands a 1 GiB body over in ~16,000 freshly allocated 64 KiB Buffers, each
 * through the stream machinery; measured on the 2-core bench machine that costs ~0.8-0.9 s of
 * CPU per GiB just to receive, against ~0.15-0.2 s for `onread` reads (curl: ~0.6 s
 * including its file writes). The receive path was the largest part of the gap to curl.
 *
 * PUT: node:http + a file read stream cost ~0.8 s of client CPU per GiB here, this ~0.4 (the
 * thread-pool round trip per chunk of the read stream is the difference). The four buffers stay
 * queued on the socket (the pool is the backpressure), so the kernel's send buffer never waits
 * for the next read.
 *
 * Scope: GET and PUT, `Connection: close` (one request per socket), `Accept-Encoding: identity`.
 * Redirects are followed (at most 5, the token dropped on a host change, as huggingface_hub
 * does). A 2xx body is delivered only when it is framed by `Content-Length`; anything else
 * (chunked, an encoded body, a 1xx other than 100) returns `"unsupported"` so the caller can
 * use node:http instead. Non-2xx answers become the same coded errors as everywhere else.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { connect as netConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { HubError } from "../errors.ts";
import { errorFromResponse, USER_AGENT } from "./http.ts";

export interface SocketGetHandlers {
  /** Statuses besides 2xx that are handed to `onHead` instead of thrown (e.g. 416). */
  accept?: number[];
  /**
   * The answer's status and headers; return false to drop the connection without reading the
   * body (the call then resolves with that status and `bodyRead: false`).
   */
  onHead?(status: number, headers: Record<string, string>): boolean;
  /**
   * One piece of the body, in order. The bytes are only valid during the call (the read buffer
   * is reused). Throw to stop.
   */
  onChunk(chunk: Buffer): void;
}

export type SocketGetResult = { status: number; bodyRead: boolean } | "unsupported";

/**
 * Size of the buffer each socket read lands in: 256 KiB stays in the L2 cache until the
 * caller has written (and hashed) it; 1 MiB reads cost ~0.3 s of system time per GiB more here.
 */
const READ_BUFFER = 256 << 10;
const MAX_HEAD = 64 * 1024;
const MAX_ERROR_BODY = 64 * 1024;

/** True when `socketGet`/`socketPut` can take this URL (plain http or https). */
export function socketHttpSupports(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * GETs `url`, following redirects, and streams a Content-Length-framed 2xx body into
 * `handlers.onChunk`. Resolves when the whole body has been delivered; rejects with
 * HEARTH_HUB_NETWORK when the connection fails or closes early, with the hub's coded error for
 * a non-2xx answer, or with whatever `onChunk` threw.
 */
export async function socketGet(
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  handlers: SocketGetHandlers,
): Promise<SocketGetResult> {
  let current = url;
  let hdrs: Record<string, string> = { "user-agent": USER_AGENT, ...headers };
  const buffer = Buffer.allocUnsafe(READ_BUFFER);
  for (let hop = 0; ; hop++) {
    const r = await exchange("GET", current, hdrs, signal, buffer, handlers);
    if (r.kind === "redirect") {
      if (hop >= 5) throw new HubError("HEARTH_HUB_NETWORK", `GET ${url}: more than 5 redirects`, { url });
      const next = new URL(r.location, current);
      if (next.host !== new URL(current).host) {
        const { authorization: _drop, ...rest } = hdrs;
        hdrs = rest;
      }
      current = next.toString();
      if (!socketHttpSupports(current)) return "unsupported";
      continue;
    }
    if (r.kind === "error") throw await errorFromResponse(r.response, "GET", current);
    if (r.kind === "unsupported") return "unsupported";
    return { status: r.status, bodyRead: r.bodyRead };
  }
}

/** A byte range of a local file, the body of {@link socketPut}. */
export interface FileRange {
  path: string;
  start: number;
  end: number;
}

/**
 * PUTs bytes [start, end) of a local file to `url` (no redirects) and returns the answer's
 * headers; a non-2xx answer throws the hub's coded error. `onBytes` counts bytes handed to
 * the kernel, for progress.
 */
export async function socketPut(
  url: string,
  headers: Record<string, string>,
  body: FileRange,
  signal: AbortSignal | undefined,
  onBytes?: (n: number) => void,
): Promise<Headers> {
  const hdrs = { "user-agent": USER_AGENT, ...headers, "content-length": String(body.end - body.start) };
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let answerHeaders: Record<string, string> = {};
  const r = await exchange(
    "PUT",
    url,
    hdrs,
    signal ?? new AbortController().signal,
    buffer,
    {
      onHead: (_status, h) => {
        answerHeaders = h;
        return false; // the body of a successful PUT answer carries nothing we need
      },
      onChunk: () => {},
    },
    (socket, done) => sendFileRange(socket, body, onBytes, done),
  );
  if (r.kind === "error") throw await errorFromResponse(r.response, "PUT", url);
  if (r.kind !== "body")
    throw new HubError("HEARTH_HUB_BAD_RESPONSE", `PUT ${url}: unexpected ${r.kind} answer to an upload`, { url });
  const h = new Headers();
  for (const [k, v] of Object.entries(answerHeaders)) h.set(k, v);
  return h;
}

const PUT_CHUNK = 1 << 20;

/**
 * Writes the file range to the socket: synchronous reads into a pool of four 1 MiB buffers, a
 * buffer going back to the pool once the kernel has taken it (the write callback), and waiting
 * for 'drain' whenever the socket's queue is full.
 */
function sendFileRange(
  socket: Socket,
  { path, start, end }: FileRange,
  onBytes: ((n: number) => void) | undefined,
  done: (err?: Error) => void,
): void {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    done(err as Error);
    return;
  }
  const pool = Array.from({ length: 4 }, () => Buffer.allocUnsafe(PUT_CHUNK));
  let pos = start;
  let closed = false;
  const close = () => {
    if (!closed) closeSync(fd);
    closed = true;
  };
  socket.once("close", close);
  let starved = false; // waiting for a buffer to come back
  const pump = () => {
    try {
      while (pos < end && !socket.destroyed) {
        const buf = pool.pop();
        if (!buf) {
          starved = true;
          return;
        }
        const n = readSync(fd, buf, 0, Math.min(PUT_CHUNK, end - pos), pos);
        if (n === 0)
          throw new Error(`file ${path} ended at byte ${pos}, before ${end}; was it changed during the upload?`);
        pos += n;
        // The pool bounds what is queued; the socket's own 16 KiB 'drain' mark is ignored: waiting
        // for it after every 1 MiB write lets the kernel's send buffer run dry between writes.
        socket.write(buf.subarray(0, n), (err) => {
          pool.push(buf);
          if (err) return;
          onBytes?.(n);
          if (starved) {
            starved = false;
            pump();
          }
        });
      }
      if (pos >= end) {
        close();
        done();
      }
    } catch (err) {
      close();
      done(err as Error);
    }
  };
  pump();
}

type Exchange =
  | { kind: "redirect"; location: string }
  | { kind: "error"; response: Response }
  | { kind: "unsupported" }
  | { kind: "body"; status: number; bodyRead: boolean };

/** One request on one fresh connection; `sendBody` writes a request body after the head. */
function exchange(
  method: "GET" | "PUT",
  url: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  buffer: Buffer,
  handlers: SocketGetHandlers,
  sendBody?: (socket: Socket, done: (err?: Error) => void) => void,
): Promise<Exchange> {
  const u = new URL(url);
  const https = u.protocol === "https:";
  const port = Number(u.port) || (https ? 443 : 80);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Promise<Exchange>((resolve, reject) => {
    let settled = false;
    let head: Buffer | undefined; // bytes of the answer's head seen so far
    let phase: "head" | "body" | "error-body" = "head";
    let left = 0; // body bytes still to come (body and error-body phases)
    let status = 0;
    let answer: Record<string, string> = {};
    const errorBody: Buffer[] = [];

    const finish = (err: unknown, value?: Exchange) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve(value as Exchange);
    };
    const network = (why: string, cause?: unknown) =>
      new HubError("HEARTH_HUB_NETWORK", `${method} ${url}: ${why}`, { url }, cause ? { cause } : undefined);
    const onAbort = () => finish(signal.reason ?? new Error("aborted"));

    const onHeadDone = (rest: Buffer) => {
      if (method === "GET" && status >= 300 && status < 400 && answer.location)
        return finish(null, { kind: "redirect", location: answer.location });
      const length = answer["content-length"] === undefined ? Number.NaN : Number(answer["content-length"]);
      const encoded = answer["content-encoding"] !== undefined && answer["content-encoding"] !== "identity";
      const chunked = answer["transfer-encoding"] !== undefined;
      const ok = status >= 200 && status < 300;
      if (!ok && !handlers.accept?.includes(status)) {
        phase = "error-body";
        // Without a length (chunked, or up to the close) read at most MAX_ERROR_BODY.
        left = Number.isFinite(length) && !chunked ? length : MAX_ERROR_BODY;
        onErrorBytes(rest);
        return;
      }
      if (handlers.onHead && !handlers.onHead(status, answer))
        return finish(null, { kind: "body", status, bodyRead: false });
      if (!ok) return finish(null, { kind: "body", status, bodyRead: false });
      if (!Number.isSafeInteger(length) || length < 0 || encoded || chunked)
        return finish(null, { kind: "unsupported" });
      phase = "body";
      left = length;
      onBodyBytes(rest);
    };
    const onBodyBytes = (bytes: Buffer) => {
      if (left === 0) return finish(null, { kind: "body", status, bodyRead: true });
      if (bytes.length === 0) return;
      const piece = bytes.length > left ? bytes.subarray(0, left) : bytes;
      left -= piece.length;
      try {
        handlers.onChunk(piece);
      } catch (err) {
        return finish(err);
      }
      if (left === 0) finish(null, { kind: "body", status, bodyRead: true });
    };
    const onErrorBytes = (bytes: Buffer) => {
      if (bytes.length > 0 && left > 0) {
        const piece = bytes.subarray(0, Math.min(left, bytes.length));
        errorBody.push(Buffer.from(piece)); // the read buffer is reused: copy
        left -= piece.length;
      }
      if (left <= 0) finishError();
    };
    const finishError = () => {
      const h = new Headers();
      for (const [k, v] of Object.entries(answer)) if (k !== "transfer-encoding" && k !== "content-length") h.set(k, v);
      let text: Buffer = Buffer.concat(errorBody);
      if (answer["transfer-encoding"]?.includes("chunked")) text = dechunk(text);
      finish(null, { kind: "error", response: new Response(new Uint8Array(text), { status, headers: h }) });
    };
    const onRead = (n: number, buf: Buffer): boolean => {
      if (settled) return false;
      const bytes = buf.subarray(0, n);
      if (phase === "body") {
        onBodyBytes(bytes);
        return !settled;
      }
      if (phase === "error-body") {
        onErrorBytes(bytes);
        return !settled;
      }
      head = head ? Buffer.concat([head, bytes]) : Buffer.from(bytes);
      for (;;) {
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HEAD) finish(network(`answer head longer than ${MAX_HEAD} bytes`));
          return !settled;
        }
        const parsed = parseHead(head.subarray(0, end).toString("latin1"));
        if (!parsed) {
          finish(network("malformed HTTP answer"));
          return false;
        }
        const rest = head.subarray(end + 4);
        if (parsed.status === 100) {
          head = rest; // "100 Continue": the real answer follows
          continue;
        }
        if (parsed.status < 200) {
          finish(null, { kind: "unsupported" });
          return false;
        }
        status = parsed.status;
        answer = parsed.headers;
        head = undefined;
        onHeadDone(rest);
        return !settled;
      }
    };

    const options = { host, port, onread: { buffer, callback: onRead } };
    const socket: Socket = https
      ? tlsConnect({ ...options, servername: isIp(host) ? undefined : host, ALPNProtocols: ["http/1.1"] })
      : netConnect(options);
    // As curl does: no Nagle delay for the head or the last partial segment of a body.
    socket.setNoDelay(true);
    socket.once(https ? "secureConnect" : "connect", () => {
      const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `host: ${u.host}`];
      const all = { "accept-encoding": "identity", ...headers, connection: "close" };
      for (const [k, v] of Object.entries(all)) if (k.toLowerCase() !== "host") lines.push(`${k}: ${v}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
      sendBody?.(socket, (err) => {
        if (err) finish(err);
      });
    });
    socket.on("error", (err) =>
      finish(network(`could not reach the hub (${(err as NodeJS.ErrnoException).code ?? err.message})`, err)),
    );
    socket.on("close", () => {
      if (settled) return;
      if (phase === "error-body") return finishError();
      if (phase === "body") return finish(network(`connection closed with ${left} body bytes still to come`));
      finish(network("connection closed before an answer"));
    });
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** The payload of a (complete or cut) chunked body: `<hex size>\r\n<bytes>\r\n` ... `0\r\n\r\n`. */
function dechunk(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    const eol = raw.indexOf("\r\n", at);
    if (eol < 0) break;
    const size = Number.parseInt(raw.subarray(at, eol).toString("latin1"), 16);
    if (!(size > 0)) break;
    out.push(raw.subarray(eol + 2, Math.min(raw.length, eol + 2 + size)));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

function parseHead(text: string): { status: number; headers: Record<string, string> } | undefined {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  if (!m) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
  }
  return { status: Number(m[1]), headers };
}

function isIp(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(":");
}
