/**
 * GET a URL into `dest` (a `.incomplete` file), resuming with `Range: bytes=<n>-` from what
 * is already there, on the first try and after every dropped connection. When the etag is a
 * 64-hex sha256 the bytes are verified; a mismatch deletes the file. Large files are hashed
 * on a worker thread while they download (see hash-follower.ts).
 */
import { createHash } from "node:crypto";
import { closeSync, createReadStream, ftruncateSync, openSync, writeSync } from "node:fs";
import { stat, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { HubError, isHubError } from "../errors.ts";
import type { ProgressListener } from "../types/public.ts";
import { type HubContext, hubFetch } from "../utils/http.ts";
import { HashFollower } from "./hash-follower.ts";

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
/** Below this, hashing on the main thread is cheaper than starting a worker. */
const WORKER_MIN_BYTES = 16 * 1024 * 1024;

export async function fetchToFile(opts: FetchToFileOptions): Promise<void> {
  const { ctx, url, dest, expectedSize, etag, path } = opts;
  const maxAttempts = opts.maxAttempts ?? 5;
  const verify = SHA256.test(etag);
  // Opened once for the whole download: appends after a resume, ftruncate on a restart.
  const fd = openSync(dest, "a+");
  let have = (await stat(dest)).size;
  if (have > expectedSize) {
    ftruncateSync(fd, 0);
    have = 0;
  }
  const follower = verify && expectedSize >= WORKER_MIN_BYTES ? new HashFollower(dest, have) : undefined;
  const inline = verify && !follower ? createHash("sha256") : undefined;
  if (inline && have > 0) for await (const c of createReadStream(dest, { end: have - 1 })) inline.update(c as Buffer);
  let finished = false;
  try {
    let lastError: unknown;
    for (let attempt = 1; attempt <= maxAttempts && have < expectedSize; attempt++) {
      if (attempt > 1) await sleep(Math.min(2000, 100 * 2 ** (attempt - 2)));
      try {
        const res = await hubFetch(ctx, url, {
          auth: opts.auth,
          headers: have > 0 ? { range: `bytes=${have}-` } : {},
          accept: [416],
        });
        if (res.status === 416 || (have > 0 && res.status !== 206)) {
          // Our bytes do not fit the server's file (416), or it ignored the Range: start over
          // from byte 0, as Python does.
          await res.body?.cancel();
          closeSync(fd);
          finished = true;
          await follower?.abort();
          await unlink(dest);
          return fetchToFile(opts);
        }
        if (!res.body) throw new HubError("HEARTH_HUB_BAD_RESPONSE", `GET ${url}: empty body`, { url });
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
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
          writeSync(fd, chunk);
          inline?.update(chunk);
          have += chunk.byteLength;
          follower?.advance(have);
          opts.onProgress?.({ path, loaded: have, total: expectedSize });
        }
      } catch (err) {
        if (isHubError(err, "HEARTH_HUB_SIZE_MISMATCH")) {
          closeSync(fd);
          finished = true;
          await follower?.abort();
          await unlink(dest).catch(() => {});
          throw err;
        }
        // Hub errors other than a dropped connection or a 5xx are final.
        if (isHubError(err) && err.code !== "HEARTH_HUB_NETWORK" && !(err.status && err.status >= 500)) throw err;
        lastError = err;
      }
    }
    if (have !== expectedSize) {
      throw new HubError(
        "HEARTH_HUB_SIZE_MISMATCH",
        `download of '${path}' from ${url}: got ${have} of ${expectedSize} bytes after ${maxAttempts} attempts; run again to resume (${(lastError as Error)?.message ?? "connection closed early"})`,
        { url },
        { cause: lastError },
      );
    }
    closeSync(fd);
    finished = true;
    const digest = follower ? (await follower.finish(have)).digest : inline?.digest("hex");
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
      await follower?.abort();
    }
  }
}
