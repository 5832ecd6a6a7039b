/**
 * The sha256 of an LFS upload on its own native thread (native/hash-thread.c, the same file as
 * @hearth/hub's), hashing the temp file through mmap behind the writes of {@link SpoolFile}, so
 * the event loop that receives the body no longer hashes it.
 *
 * Why: with the hash inline, the request thread received, hashed and copied every byte
 * (curl's 1 GiB PUT took ~1.9-2.3 s over loopback on the 2-core bench machine, the server
 * ~2.5 CPU s, sha256 ~0.85 of it); the hash and the receive now run on two cores side by side.
 * Where the addon is not built (no compiler, not Linux) or `HEARTH_HUBSERVER_HASH_THREAD=0`, the
 * caller hashes inline as before.
 */
import { createRequire } from "node:module";

/** native/hash-thread.c; see there. */
interface HashThreadAddon {
  start(path: string, prefixBytes: number): object;
  wrote(handle: object, totalBytes: number): void;
  finish(handle: object, abort: boolean, done: (err: Error | null, digest: string | null) => void): void;
}

let addon: HashThreadAddon | null | undefined;

function hashAddon(): HashThreadAddon | undefined {
  if (process.env.HEARTH_HUBSERVER_HASH_THREAD === "0" || process.platform !== "linux") return undefined;
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)("../../build/Release/hearth_hub_server_hash.node") as HashThreadAddon;
    } catch {
      addon = null; // not built: the caller hashes inline
    }
  }
  return addon ?? undefined;
}

/** Whether uploads are hashed on the native thread (for logs and tests). */
export function hashThreadAvailable(): boolean {
  return hashAddon() !== undefined;
}

/** A sha256 thread following a file as it is written; see native/hash-thread.c. */
export class FileHashThread {
  private readonly handle: object;
  private written = 0;
  private ended: Promise<string | null> | undefined;

  private constructor(
    private readonly native: HashThreadAddon,
    path: string,
  ) {
    this.handle = native.start(path, 0);
  }

  /** Starts hashing `path` (already created, empty) from byte 0; undefined without the addon. */
  static start(path: string): FileHashThread | undefined {
    const native = hashAddon();
    return native ? new FileHashThread(native, path) : undefined;
  }

  /** `n` more bytes are in the file from its start (after their write has returned). */
  wrote(n: number): void {
    this.written += n;
    this.native.wrote(this.handle, this.written);
  }

  /** The hex sha256 of the bytes announced with {@link wrote}. */
  async finish(): Promise<string> {
    const digest = await this.end(false);
    if (digest === null) throw new Error("the hash thread ended without a digest");
    return digest;
  }

  /** Stops the thread (its file closed) and waits for it. */
  async abort(): Promise<void> {
    await this.end(true).catch(() => {});
  }

  private end(abort: boolean): Promise<string | null> {
    this.ended ??= new Promise((resolve, reject) =>
      this.native.finish(this.handle, abort, (err, digest) =>
        err ? reject(new Error(`sha256 thread: ${err.message}`)) : resolve(digest),
      ),
    );
    return this.ended;
  }
}
