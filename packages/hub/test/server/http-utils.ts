import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errorCode?: string,
    readonly headers: Record<string, string> = {},
    readonly body?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export const notFound = {
  repo: (name: string) => new HttpError(404, `Repository ${name} not found`, "RepoNotFound"),
  revision: (rev: string, commit?: string) =>
    new HttpError(404, `Invalid rev id: ${rev}`, "RevisionNotFound", commit ? { "x-repo-commit": commit } : {}),
  entry: (path: string, commit: string) =>
    new HttpError(404, `Entry not found: ${path}`, "EntryNotFound", { "x-repo-commit": commit }),
};

export function sendError(res: ServerResponse, err: HttpError, head: boolean): void {
  const headers: Record<string, string> = {
    ...err.headers,
    "x-error-message": err.message,
    "content-type": "application/json",
  };
  if (err.errorCode) headers["x-error-code"] = err.errorCode;
  res.writeHead(err.status, headers);
  res.end(head ? undefined : JSON.stringify(err.body ?? { error: err.message }));
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function readJson<T>(req: IncomingMessage): Promise<T> {
  const text = (await readBody(req)).toString();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new HttpError(400, "body is not JSON");
  }
}

/** Parses `Range: bytes=a-b` / `bytes=a-` against a size. undefined = whole; null = unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return undefined;
  let start: number;
  let end: number;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}

export interface ServeOptions {
  /** Send only this many body bytes, then destroy the socket (simulated network drop). */
  cutAfter?: number;
  /** Pause this long between 64 KiB chunks (keeps a transfer in flight for lock tests). */
  chunkDelayMs?: number;
}

/** 200/206/416 with Range, from memory or a file on disk. */
export function serveBytes(
  req: IncomingMessage,
  res: ServerResponse,
  source: { data: Buffer } | { file: string; size: number },
  headers: Record<string, string>,
  opts: ServeOptions = {},
): void {
  const size = "data" in source ? source.data.length : source.size;
  const range = parseRange(req.headers.range, size);
  const base = { ...headers, "accept-ranges": "bytes" };
  if (range === null) {
    res.writeHead(416, { ...base, "content-range": `bytes */${size}` });
    res.end();
    return;
  }
  const start = range?.start ?? 0;
  const end = range?.end ?? size - 1;
  const length = size === 0 ? 0 : end - start + 1;
  const status = range ? 206 : 200;
  res.writeHead(status, {
    ...base,
    "content-length": String(length),
    ...(range ? { "content-range": `bytes ${start}-${end}/${size}` } : {}),
  });
  if (req.method === "HEAD" || length === 0) {
    res.end();
    return;
  }
  const limit = opts.cutAfter !== undefined ? Math.min(length, opts.cutAfter) : length;
  const stream =
    "data" in source
      ? (async function* () {
          for (let o = start; o < start + limit; o += 65536)
            yield source.data.subarray(o, Math.min(start + limit, o + 65536));
        })()
      : createReadStream(source.file, { start, end: start + limit - 1, highWaterMark: 1 << 20 });
  (async () => {
    for await (const chunk of stream) {
      if (opts.chunkDelayMs) await new Promise((r) => setTimeout(r, opts.chunkDelayMs));
      if (!res.write(chunk)) await new Promise((r) => res.once("drain", r));
    }
    if (limit < length) res.destroy();
    else res.end();
  })().catch(() => res.destroy());
}
