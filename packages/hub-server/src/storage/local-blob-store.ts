import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { finished, Readable } from "node:stream";
import { hubError } from "../errors.ts";
import { type BlobStat, type BlobStore, isSha256 } from "./blob-store.ts";
import { SpoolFile } from "./spool-file.ts";

/** {@link BlobStore} on the local filesystem: `<root>/objects/ab/cd/<oid>`, temp files in `<root>/tmp`. */
export class LocalBlobStore implements BlobStore {
  constructor(private readonly root: string) {}

  private pathOf(oid: string): string {
    if (!isSha256(oid))
      throw hubError(
        "HEARTH_HUBSERVER_BAD_REQUEST",
        `blob store: oid must be 64 lower-case hex, got '${String(oid).slice(0, 80)}'`,
      );
    return join(this.root, "objects", oid.slice(0, 2), oid.slice(2, 4), oid);
  }

  private partDir(uploadId: string): string {
    if (!/^[0-9a-f]{16,64}$/.test(uploadId))
      throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `blob store: bad upload id '${uploadId}'`);
    return join(this.root, "multipart", uploadId);
  }

  async stat(oid: string): Promise<BlobStat | undefined> {
    try {
      return { size: (await stat(this.pathOf(oid))).size };
    } catch {
      return undefined;
    }
  }

  /**
   * Writes `source` to a fresh temp file, returning its sha256 and length, and its md5 when
   * asked (multipart parts: the md5 is their ETag). Whole objects skip the md5: it cost ~2 CPU
   * s per GiB here, more than twice the sha256, on every LFS PUT. The bytes go to disk through
   * {@link SpoolFile}: copied, while still in the CPU cache after the hash, into a few reused
   * 1 MiB buffers that are written with positional writes on the thread pool.
   */
  private async spool(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    maxSize: number,
    what: string,
    withMd5 = false,
  ): Promise<{ tmp: string; sha256: string; md5: string; size: number }> {
    await mkdir(join(this.root, "tmp"), { recursive: true });
    const tmp = join(this.root, "tmp", randomBytes(12).toString("hex"));
    const out = await SpoolFile.create(tmp, maxSize);
    const sha = createHash("sha256");
    const md5 = withMd5 ? createHash("md5") : undefined;
    let size = 0;
    const take = (chunk: Uint8Array): Promise<void> | undefined => {
      size += chunk.length;
      if (size > maxSize) {
        throw hubError("HEARTH_HUBSERVER_TOO_LARGE", `${what}: received more than the ${maxSize} bytes announced`);
      }
      sha.update(chunk);
      md5?.update(chunk);
      return out.add(chunk);
    };
    try {
      if (source instanceof Readable) await eachChunk(source, take);
      else
        for await (const chunk of source) {
          const full = take(chunk);
          if (full) await full;
        }
      await out.close();
    } catch (e) {
      await out.close().catch(() => {});
      await rm(tmp, { force: true });
      throw e;
    }
    return { tmp, sha256: sha.digest("hex"), md5: md5?.digest("hex") ?? "", size };
  }

  private async commitTemp(tmp: string, oid: string): Promise<void> {
    const dest = this.pathOf(oid);
    await mkdir(join(dest, ".."), { recursive: true });
    await rename(tmp, dest);
  }

  async put(oid: string, size: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    this.pathOf(oid);
    const got = await this.spool(source, size, `LFS upload of ${oid}`);
    if (got.size !== size || got.sha256 !== oid) {
      await rm(got.tmp, { force: true });
      throw hubError(
        "HEARTH_HUBSERVER_LFS_HASH_MISMATCH",
        `LFS upload: expected sha256 ${oid} and ${size} bytes, got sha256 ${got.sha256} and ${got.size} bytes; nothing was stored`,
      );
    }
    await this.commitTemp(got.tmp, oid);
  }

  read(oid: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.pathOf(oid), range ? { start: range.start, end: range.end } : {});
  }

  localPath(oid: string): string {
    return this.pathOf(oid);
  }

  async putPart(
    uploadId: string,
    partNumber: number,
    maxSize: number,
    source: AsyncIterable<Uint8Array>,
  ): Promise<string> {
    const dir = this.partDir(uploadId);
    const got = await this.spool(source, maxSize, `multipart upload ${uploadId} part ${partNumber}`, true);
    await mkdir(dir, { recursive: true });
    await rename(got.tmp, join(dir, String(partNumber)));
    return `"${got.md5}"`;
  }

  async completeMultipart(uploadId: string, oid: string, size: number, partCount: number): Promise<void> {
    const dir = this.partDir(uploadId);
    const parts = async function* () {
      for (let i = 1; i <= partCount; i++) {
        try {
          await stat(join(dir, String(i)));
        } catch {
          throw hubError(
            "HEARTH_HUBSERVER_BAD_REQUEST",
            `multipart completion for ${oid}: part ${i} of ${partCount} was never uploaded`,
          );
        }
        yield* createReadStream(join(dir, String(i)));
      }
    };
    try {
      await this.put(oid, size, parts());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

/**
 * Feeds each chunk of a node stream to `onChunk` from its 'data' events (one synchronous call
 * per 64 KiB request chunk, where `for await` costs a promise and a few microtask turns each).
 * A returned promise pauses the stream until it settles, and the end waits for it too. Rejects
 * with the stream's error (a closed connection included), or with what `onChunk` threw or
 * rejected with; the stream is then destroyed.
 */
function eachChunk(stream: Readable, onChunk: (chunk: Uint8Array) => Promise<void> | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stopped = false;
    let pending: Promise<void> | undefined;
    const stop = (err?: unknown) => {
      if (stopped) return;
      stopped = true;
      stream.off("data", onData);
      cleanup();
      if (err === undefined) return resolve();
      stream.destroy();
      reject(err);
    };
    const run = (chunk: Uint8Array) => (stopped ? undefined : onChunk(chunk));
    // The stream stays paused until the last promise handed back has settled.
    const hold = (wait: Promise<void>) => {
      stream.pause();
      const mine: Promise<void> = wait.then(() => {
        if (pending !== mine) return;
        pending = undefined;
        if (!stopped) stream.resume();
      }, stop);
      pending = mine;
    };
    const onData = (chunk: Uint8Array) => {
      // Not expected once paused; kept in order all the same.
      if (pending) return hold(pending.then(() => run(chunk)));
      let wait: Promise<void> | undefined;
      try {
        wait = run(chunk);
      } catch (err) {
        return stop(err);
      }
      if (wait) hold(wait);
    };
    stream.on("data", onData);
    const cleanup = finished(stream, (err) => {
      if (err) return stop(err);
      if (pending) pending.then(() => stop());
      else stop();
    });
  });
}
