/**
 * GET a URL into `dest` (a `.incomplete` file), resuming with `Range: bytes=<n>-` from what
 * is already there, on the first try and after every dropped connection. When the etag is a
 * 64-hex sha256 the bytes are verified; a mismatch deletes the file.
 *
 * The body comes over a bare socket (utils/socket-http.ts) unless a fetch was injected or the
 * answer needs a real HTTP stack (chunked, encoded): then node:http or the injected fetch.
 * Each read is written synchronously (to the page cache) as it lands.
 *
 * Where the sha256 runs (config.ts `hashThread`):
 * - `worker` (by default for files of 8 MiB and more, 96 MiB without the addon): a thread hashes
 *   the `.incomplete` file behind the writer (hash-thread.ts): natively, reading the page cache in
 *   place through mmap (native/hash-thread.c), else a node Worker that reads it back
 *   (hash-worker.ts); the receive+write thread never waits for the hash. The download then takes
 *   about max(receive + write, sha256 (+ read-back)) instead of their sum.
 * - `inline`: each read is hashed on the receiving thread right after its write, while it is
 *   still in the CPU cache (one thread, receive + write + sha256 in sequence).
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, ftruncateSync, openSync, writeSync } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { downloadTimeoutMs, hashThread, isOffline } from "../config.ts";
import { HubError, isHubError } from "../errors.ts";
import type { ProgressListener } from "../types/public.ts";
import { authHeaders, type HubContext, hubFetch } from "../utils/http.ts";
import { nodeGet } from "../utils/node-http.ts";
import { type SocketGetResult, socketGet, socketHttpSupports } from "../utils/socket-http.ts";
import { publishTiming, timingWanted } from "../utils/timing.ts";
import { nativeHashAvailable, startHashThread } from "./hash-thread.ts";

export interface FetchToFileOptions {
  ctx: HubContext;
  url: string;
  /** Send the hub token (false for a storage URL on another host). */
  auth: boolean;
  dest: string;
  expectedSize: number;
  /** Normalised etag; checked as sha256 when it is 64 hex. */
  etag: string;
  /** Repo path, for progress and messages. */
  path: string;
  onProgress?: ProgressListener;
  /** Attempts in all, including resumes after a dropped connection (default 5). */
  maxAttempts?: number;
}

const SHA256 = /^[0-9a-f]{64}$/;
/**
 * Below this (unless HEARTH_HUB_HASH_THREAD says), hashing on the receiving thread is cheaper
 * than starting a worker: a worker takes 20-140 ms to start on the 2-core bench machine and
 * saves ~0.3-0.5 ms per MiB. Measured there from a sendfile server, medians of 7, s/GiB
 * worker vs inline: 32 MiB 2.59 vs 2.07, 64 MiB 1.98 vs 1.59, 128 MiB 1.34 vs 1.67, 256 MiB
 * 1.14 vs 1.28 (load ~10).
 */
const WORKER_MIN_BYTES = 96 * 1024 * 1024;
/**
 * The same for the native thread, which starts in microseconds instead of a Worker's 20-140 ms
 * and reads nothing back. hfHubDownload from the Hearth server, medians of 7 interleaved, ms,
 * native vs inline (load ~4): 8 MiB 27.7 vs 29.9, 16 MiB 35.9 vs 47.7, 32 MiB 52.7 vs 65.5.
 */
const NATIVE_MIN_BYTES = 8 * 1024 * 1024;

export async function fetchToFile(opts: FetchToFileOptions): Promise<void> {
  const { ctx, url, dest, expectedSize, etag, path } = opts;
  const maxAttempts = opts.maxAttempts ?? 5;
  const onProgress = opts.onProgress;
  const verify = SHA256.test(etag);
  // Opened once for the whole download: appends after a resume, ftruncate on a restart.
  const fd = openSync(dest, "a+");
  let have = (await stat(dest)).size;
  if (have > expectedSize) {
    ftruncateSync(fd, 0);
    have = 0;
  }
  // On a worker thread that reads the file back behind the writer (config.ts hashThread); a
  // resumed prefix is just where its count starts.
  const mode = hashThread();
  const threadFrom = nativeHashAvailable() ? NATIVE_MIN_BYTES : WORKER_MIN_BYTES;
  const worker =
    verify && (mode === "worker" || (mode === "auto" && expectedSize >= threadFrom))
      ? startHashThread(dest, have)
      : undefined;
  const hash = verify && !worker ? createHash("sha256") : undefined;
  const t0 = timingWanted() ? performance.now() : 0;
  const startBytes = have;
  let firstByteAt = 0;
  if (hash && have > 0)
    for await (const c of createReadStream(dest, { end: have - 1, highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  let finished = false;
  // The bare-socket GET (socket-http.ts) unless a fetch was injected or the server's answer
  // needs a real HTTP stack (then node:http / the injected fetch for the rest of this file).
  let useSocket = ctx.fetch === globalThis.fetch && socketHttpSupports(url);
  try {
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts && have < expectedSize; attempt++) {
      if (attempt > 1) await sleep(Math.min(2000, 100 * 2 ** (attempt - 2)));
      // A stalled connection (no byte for HF_HUB_DOWNLOAD_TIMEOUT) is aborted and resumed.
      const stall = new AbortController();
      const idleMs = downloadTimeoutMs();
      let last = Date.now();
      const watchdog = setInterval(
        () => Date.now() - last > idleMs && stall.abort(),
        Math.max(25, Math.min(1000, idleMs / 4)),
      );
      const touch = () => {
        last = Date.now();
      };
      try {
        const range: Record<string, string> = have > 0 ? { range: `bytes=${have}-` } : {};
        // Our bytes do not fit the server's file (416), or it ignored the Range: start over
        // from byte 0, as Python does.
        const from = have;
        const mismatch = (status: number) => status === 416 || (from > 0 && status !== 206);
        const write = (chunk: Uint8Array) => {
          if (chunk.byteLength > expectedSize - have) {
            throw new HubError(
              "HEARTH_HUB_SIZE_MISMATCH",
              `GET ${url}: more bytes than the announced ${expectedSize}`,
              {
                url,
              },
            );
          }
          // Synchronous writes to the page cache: cheaper than a thread-pool round trip per chunk.
          // Inline, the chunk is hashed right after, while it is still in the CPU cache.
          touch();
          if (firstByteAt === 0 && t0 !== 0) firstByteAt = performance.now();
          writeSync(fd, chunk);
          hash?.update(chunk);
          have += chunk.byteLength;
          worker?.wrote(chunk.byteLength);
          onProgress?.({ path, loaded: have, total: expectedSize });
        };
        let status: number | undefined;
        if (useSocket) {
          const r = await fastGet(ctx, url, opts.auth, range, stall.signal, mismatch, write);
          if (r === "unsupported") useSocket = false;
          else status = r.status;
        }
        if (!useSocket) {
          const res = await openBody(ctx, url, opts.auth, range, stall.signal);
          status = res.status;
          if (mismatch(res.status)) res.cancel();
          else await consume(res.body, write);
        }
        if (status !== undefined && mismatch(status)) {
          await worker?.abort();
          closeSync(fd);
          finished = true;
          await unlink(dest);
          return fetchToFile(opts);
        }
      } catch (err) {
        if (isHubError(err, "HEARTH_HUB_SIZE_MISMATCH")) {
          await worker?.abort();
          closeSync(fd);
          finished = true;
          await unlink(dest).catch(() => {});
          throw err;
        }
        // Hub errors other than a dropped connection or a 5xx are final.
        if (isHubError(err) && err.code !== "HEARTH_HUB_NETWORK" && !(err.status && err.status >= 500)) throw err;
        if (ctx.signal?.aborted) throw err;
        lastError = err;
      } finally {
        clearInterval(watchdog);
      }
    }
    if (have !== expectedSize) {
      await worker?.abort();
      throw new HubError(
        "HEARTH_HUB_SIZE_MISMATCH",
        `download of '${path}' from ${url}: got ${have} of ${expectedSize} bytes after ${maxAttempts} attempts; run again to resume (${(lastError as Error)?.message ?? "connection closed early"})`,
        { url },
        { cause: lastError },
      );
    }
    closeSync(fd);
    finished = true;
    const t1 = timingWanted() ? performance.now() : 0;
    let digest: string | undefined;
    try {
      digest = worker ? await worker.finish() : hash?.digest("hex");
    } catch (err) {
      await unlink(dest).catch(() => {});
      throw new HubError(
        "HEARTH_HUB_HASH_FAILED",
        `download of '${path}' from ${url}: the sha256 could not be computed (${(err as Error).message}); the file was discarded, run again`,
        { url },
        { cause: err },
      );
    }
    if (timingWanted()) {
      publishTiming({ phase: "download-first-byte", ms: firstByteAt - t0, path });
      publishTiming({ phase: "download-body", ms: t1 - t0, bytes: have - startBytes, path });
      publishTiming({ phase: "download-hash-tail", ms: performance.now() - t1, bytes: have, path });
      // CPU of the hash thread itself (wall-clock `ms` is not what this phase measures).
      if (worker) {
        publishTiming({ phase: "download-hash-thread-cpu", ms: worker.cpuMs, bytes: have - startBytes, path });
        publishTiming({ phase: "download-hash-thread-queued", ms: worker.queuedMs, bytes: have - startBytes, path });
        const p = worker.profile;
        if (p) {
          publishTiming({ phase: "download-hash-thread-boot", ms: p.boot, path });
          publishTiming({ phase: "download-hash-thread-read", ms: p.read, path });
          publishTiming({ phase: "download-hash-thread-hash", ms: p.hash, path });
          publishTiming({ phase: "download-hash-thread-wait", ms: p.wait, path });
        }
      }
    }
    if (verify && digest !== etag) {
      await unlink(dest).catch(() => {});
      throw new HubError(
        "HEARTH_HUB_CHECKSUM_MISMATCH",
        `download of '${path}' from ${url}: sha256 of the bytes is ${digest}, the hub announced ${etag}; the file was discarded`,
        { url },
      );
    }
  } finally {
    if (!finished) {
      closeSync(fd);
      await worker?.abort();
    }
  }
}

interface Body {
  status: number;
  body: AsyncIterable<Uint8Array> | Readable;
  cancel(): void;
}

/**
 * Feeds every chunk of `body` to `onChunk` (which may throw to stop). A node stream is read
 * through 'data' events: one synchronous call per chunk, where `for await` costs a promise and a
 * microtask turn per 64 KiB chunk. A body that ends early rejects.
 */
function consume(body: AsyncIterable<Uint8Array> | Readable, onChunk: (chunk: Uint8Array) => void): Promise<void> {
  if (!(body instanceof Readable)) {
    return (async () => {
      for await (const chunk of body) onChunk(chunk);
    })();
  }
  return new Promise<void>((resolve, reject) => {
    const fail = (err: unknown) => {
      body.off("data", onData);
      body.destroy();
      reject(err);
    };
    const onData = (chunk: Uint8Array) => {
      try {
        onChunk(chunk);
      } catch (err) {
        fail(err);
      }
    };
    body.on("data", onData);
    body.once("end", () => resolve());
    body.once("error", fail);
    body.once("close", () => {
      if (!body.readableEnded) fail(new Error("connection closed before the body ended"));
    });
  });
}

/** The GET on a bare socket (see socket-http.ts); a body that does not fit is not read. */
async function fastGet(
  ctx: HubContext,
  url: string,
  auth: boolean,
  headers: Record<string, string>,
  stall: AbortSignal,
  mismatch: (status: number) => boolean,
  onChunk: (chunk: Buffer) => void,
): Promise<SocketGetResult> {
  if (isOffline()) {
    throw new HubError("HEARTH_HUB_OFFLINE", `GET ${url}: HF_HUB_OFFLINE is set, so Hearth makes no network calls`, {
      url,
    });
  }
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stall]) : stall;
  return socketGet(url, { ...(auth ? authHeaders(ctx) : {}), ...headers }, signal, {
    accept: [416],
    onHead: (status) => !mismatch(status),
    onChunk,
  });
}

/**
 * The GET itself: on node:http when the caller did not inject a fetch (half the CPU per
 * byte, see node-get.ts), else through the injected fetch.
 */
async function openBody(
  ctx: HubContext,
  url: string,
  auth: boolean,
  headers: Record<string, string>,
  stall: AbortSignal,
): Promise<Body> {
  if (ctx.fetch === globalThis.fetch) {
    if (isOffline()) {
      throw new HubError("HEARTH_HUB_OFFLINE", `GET ${url}: HF_HUB_OFFLINE is set, so Hearth makes no network calls`, {
        url,
      });
    }
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, stall]) : stall;
    return nodeGet(url, { ...(auth ? authHeaders(ctx) : {}), ...headers }, signal, [416]);
  }
  const res = await hubFetch(ctx, url, { auth, headers, accept: [416], signal: stall });
  const body = res.body;
  if (!body) throw new HubError("HEARTH_HUB_BAD_RESPONSE", `GET ${url}: empty body`, { url });
  return {
    status: res.status,
    body: body as unknown as AsyncIterable<Uint8Array>,
    cancel: () => void body.cancel().catch(() => {}),
  };
}
