/**
 * GET a URL into `dest` (a `.incomplete` file), resuming with `Range: bytes=<n>-` from what
 * is already there, on the first try and after every dropped connection. The bytes are
 * hashed on the way; an etag that is a 64-hex sha256 must match or the file is deleted.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { type FileHandle, open, stat, truncate, unlink } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { HubError, isHubError } from "../errors.ts";
import type { ProgressListener } from "../types/public.ts";
import { type HubContext, hubFetch } from "../utils/http.ts";

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

export async function fetchToFile(opts: FetchToFileOptions): Promise<void> {
  const { ctx, url, dest, expectedSize, etag, path } = opts;
  const maxAttempts = opts.maxAttempts ?? 5;
  const verify = SHA256.test(etag);
  let have = await sizeOf(dest);
  if (have > expectedSize) {
    await truncate(dest, 0);
    have = 0;
  }
  // Hash what an earlier, interrupted run left behind, so the final digest covers every byte.
  const hash = createHash("sha256");
  if (verify && have > 0) await hashPrefix(dest, have, hash);
  let hashed = have;
  let lastError: unknown;
  for (let attempt = 1; attempt <= maxAttempts && have < expectedSize; attempt++) {
    if (attempt > 1) await sleep(Math.min(2000, 100 * 2 ** (attempt - 2)));
    let fh: FileHandle | undefined;
    try {
      const res = await hubFetch(ctx, url, {
        auth: opts.auth,
        headers: have > 0 ? { range: `bytes=${have}-` } : {},
        accept: [416],
      });
      if (res.status === 416) {
        await res.body?.cancel();
        throw new HubError("HEARTH_HUB_HTTP", `GET ${url}: 416 for bytes=${have}- of a ${expectedSize}-byte file`, {
          status: 416,
          url,
        });
      }
      if (have > 0 && res.status !== 206) {
        // The server ignored the Range: start over from byte 0 (Python does the same).
        await res.body?.cancel();
        await truncate(dest, 0);
        return fetchToFile(opts);
      }
      fh = await open(dest, have > 0 ? "a" : "w");
      if (!res.body) throw new HubError("HEARTH_HUB_BAD_RESPONSE", `GET ${url}: empty body`, { url });
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const room = expectedSize - have;
        const piece = chunk.byteLength > room ? chunk.subarray(0, room) : chunk;
        if (piece.byteLength > 0) {
          await fh.write(piece);
          if (verify) hash.update(piece);
          have += piece.byteLength;
          hashed = have;
          opts.onProgress?.({ path, loaded: have, total: expectedSize });
        }
        if (chunk.byteLength > room) {
          throw new HubError("HEARTH_HUB_SIZE_MISMATCH", `GET ${url}: more bytes than the announced ${expectedSize}`, {
            url,
          });
        }
      }
    } catch (err) {
      if (isHubError(err, "HEARTH_HUB_SIZE_MISMATCH")) {
        await unlink(dest).catch(() => {});
        throw err;
      }
      // Hub errors other than a dropped connection are final.
      if (isHubError(err) && err.code !== "HEARTH_HUB_NETWORK" && !(err.status && err.status >= 500)) throw err;
      lastError = err;
    } finally {
      await fh?.close();
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
  if (verify) {
    if (hashed !== have) throw new Error("internal: hash does not cover the file");
    const digest = hash.digest("hex");
    if (digest !== etag) {
      await unlink(dest).catch(() => {});
      throw new HubError(
        "HEARTH_HUB_CHECKSUM_MISMATCH",
        `download of '${path}' from ${url}: sha256 of the bytes is ${digest}, the hub announced ${etag}; the file was discarded`,
        { url },
      );
    }
  }
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashPrefix(path: string, length: number, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { start: 0, end: length - 1, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
  }
}
