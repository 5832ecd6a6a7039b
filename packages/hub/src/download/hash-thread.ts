/**
 * The thread that sha256-hashes a large download behind its writer: native (native/hash-thread.c,
 * a pthread hashing the `.incomplete` file in place through mmap) where the addon was built, else
 * a node Worker that reads the file back (hash-worker.ts). Both take the same calls: `wrote(n)`
 * after each write has returned, then `finish()` for the digest or `abort()`.
 *
 * Timed on the 2-core bench machine, 1 GiB from the Hearth hub server (sendfile), the Worker's
 * thread spent ~47 ms booting and ~190-200 ms in pread on top of ~930 ms of sha256, and it is the
 * download's critical path; the native thread starts in microseconds and reads nothing.
 * `HEARTH_HUB_NATIVE_HASH=0` turns the native thread off.
 */
import { createRequire } from "node:module";
import { HashWorker } from "./hash-worker.ts";

/** Where a hash thread's time went, wall-clock ms (see {@link HashThread.profile}). */
export interface HashThreadProfile {
  /** From the start call until the thread ran its first line (the Worker's boot; ~0 native). */
  boot: number;
  /** Getting the bytes: pread into a buffer (Worker), or mapping the file (native). */
  read: number;
  /** The sha256 updates. */
  hash: number;
  /** Asleep, caught up with the writer. */
  wait: number;
}

/** A sha256 thread that follows a file as it is written. */
export interface HashThread {
  /** `native` (mmap, pthread) or `worker` (node Worker, pread). */
  readonly kind: "native" | "worker";
  /** `n` more bytes are in the file (call after the write has returned). Never waits. */
  wrote(n: number): void;
  /** The digest of the whole file as written (waits for the thread to hash the rest). */
  finish(): Promise<string>;
  /** Stops the thread and waits until it has ended. */
  abort(): Promise<void>;
  /** CPU ms of the thread (Linux), known once finish() has returned; else NaN. */
  readonly cpuMs: number;
  /** Ms it was ready to run but waited for a core (Linux schedstat), once finished; else NaN. */
  readonly queuedMs: number;
  /** Known once finish() has returned. */
  readonly profile: HashThreadProfile | undefined;
}

/** native/hash-thread.c; see there. */
interface HashThreadAddon {
  start(path: string, prefixBytes: number): object;
  wrote(handle: object, totalBytes: number): void;
  finish(
    handle: object,
    abort: boolean,
    done: (err: Error | null, digest: string | null, stats: [number, number, number, number, number]) => void,
  ): void;
}

let addon: HashThreadAddon | null | undefined;

/** The native hash thread when it was built and is not turned off, else undefined. */
function nativeAddon(): HashThreadAddon | undefined {
  if (process.env.HEARTH_HUB_NATIVE_HASH === "0" || process.platform !== "linux") return undefined;
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)("../../build/Release/hearth_hub_native.node") as HashThreadAddon;
    } catch {
      addon = null; // not built (no compiler at install time): the Worker
    }
  }
  return addon ?? undefined;
}

/** Whether large downloads hash on the native thread (for logs and tests). */
export function nativeHashAvailable(): boolean {
  return nativeAddon() !== undefined;
}

/**
 * Starts hashing `path` from byte 0; its first `prefixBytes` bytes are already there (a resume).
 * `kind` forces one implementation (tests); by default native when built.
 */
export function startHashThread(path: string, prefixBytes: number, kind?: "native" | "worker"): HashThread {
  const native = kind === "worker" ? undefined : nativeAddon();
  if (native) return new NativeHashThread(native, path, prefixBytes);
  if (kind === "native") throw new Error("the native hash thread is not built (npm install builds it on Linux)");
  return new HashWorker(path, prefixBytes);
}

class NativeHashThread implements HashThread {
  readonly kind = "native";
  cpuMs = Number.NaN;
  queuedMs = Number.NaN;
  profile: HashThreadProfile | undefined;
  private readonly handle: object;
  private written: number;
  private ended: Promise<string | null> | undefined;

  constructor(
    private readonly addon: HashThreadAddon,
    path: string,
    prefixBytes: number,
  ) {
    this.written = prefixBytes;
    this.handle = addon.start(path, prefixBytes);
  }

  wrote(n: number): void {
    this.written += n;
    this.addon.wrote(this.handle, this.written);
  }

  async finish(): Promise<string> {
    const digest = await this.end(false);
    if (digest === null) throw new Error("the hash thread ended without a digest");
    return digest;
  }

  async abort(): Promise<void> {
    await this.end(true).catch(() => {});
  }

  /** Stops or finishes the thread once; later calls get the same outcome. */
  private end(abort: boolean): Promise<string | null> {
    this.ended ??= new Promise((resolve, reject) =>
      this.addon.finish(this.handle, abort, (err, digest, stats) => {
        const [cpu, map, hash, wait, queued] = stats;
        this.cpuMs = cpu;
        this.queuedMs = queued;
        this.profile = { boot: 0, read: map, hash, wait };
        if (err) reject(new Error(`sha256 thread: ${err.message}`));
        else resolve(digest);
      }),
    );
    return this.ended;
  }
}
