/**
 * sha256 of a download on a worker thread, fed straight from the socket: the receiving thread
 * lets its socket reads land in a ring of shared memory (`buffer()`, handed to `onread`),
 * writes each piece to the `.incomplete` file and publishes how far the ring is filled; the
 * worker hashes behind it. Nothing is re-read from disk and nothing is copied, so the
 * receive+write thread and the hash thread run side by side: the time of a download is about
 * the larger of the two, not their sum.
 *
 * Backpressure: when the worker is behind and the next read's room is not hashed yet,
 * `push` returns a promise and the socket is paused until the worker has freed
 * {@link RESUME_ROOM} bytes. A piece that did not land in the ring (the body bytes that came
 * with the answer's head, or a node:http/fetch chunk) is copied in.
 *
 * Layout of the shared buffer: Int32 [submitSeq, hashedSeq, state] (state 0 running,
 * 1 finishing, 2 aborted), then BigInt64 [submitted, hashed] (absolute byte counts), then the
 * ring.
 */
import { Worker } from "node:worker_threads";

// Plain CommonJS so the worker needs no TypeScript loader, whatever started the process.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const crypto = require("node:crypto");
const { sab, ringSize, prefixPath, prefixBytes } = workerData;
const ctl = new Int32Array(sab, 0, 4);
const pos = new BigInt64Array(sab, 16, 2);
const ring = new Uint8Array(sab, 32, ringSize);
const hash = crypto.createHash("sha256");
try {
  // A resumed download: the bytes already on disk first.
  if (prefixBytes > 0) {
    const fd = fs.openSync(prefixPath, "r");
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let at = 0; at < prefixBytes; ) {
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, prefixBytes - at), at);
        if (n <= 0) throw new Error("the .incomplete file is shorter than its resumed prefix");
        hash.update(buf.subarray(0, n));
        at += n;
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  let hashed = 0;
  for (;;) {
    const seq = Atomics.load(ctl, 0);
    const state = Atomics.load(ctl, 2);
    if (state === 2) break;
    const submitted = Number(Atomics.load(pos, 0));
    if (hashed < submitted) {
      while (hashed < submitted) {
        const at = hashed % ringSize;
        const n = Math.min(submitted - hashed, ringSize - at, 1 << 20);
        hash.update(ring.subarray(at, at + n));
        hashed += n;
        Atomics.store(pos, 1, BigInt(hashed));
        Atomics.add(ctl, 1, 1);
        Atomics.notify(ctl, 1);
      }
      continue;
    }
    if (state === 1) {
      parentPort.postMessage({ digest: hash.digest("hex") });
      break;
    }
    Atomics.wait(ctl, 0, seq);
  }
} catch (err) {
  parentPort.postMessage({ error: String((err && err.message) || err) });
}
`;

// Atomics.waitAsync is in Node since 16 but in TypeScript's lib only from es2024.
const waitAsync = (
  Atomics as unknown as {
    waitAsync(a: Int32Array, i: number, v: number, ms: number): { async: boolean; value: Promise<unknown> | string };
  }
).waitAsync;

// Small on purpose: 256 KiB reads stay in the L2 cache between the kernel's copy into the
// ring and the write to the file (1 MiB reads cost ~0.3 s/GiB more system time here), and a
// 2 MiB ring is still in the shared cache when the worker hashes it.
const RING = 2 << 20;
/** Largest read handed to the socket at once. */
const MAX_READ = 256 << 10;
/** A paused socket resumes once this much of the ring is free again. */
const RESUME_ROOM = 512 << 10;
/** The worker is woken once this much is waiting for it. */
const WAKE_BYTES = 256 << 10;
const HEADER = 32;

export class HashRing {
  private readonly sab = new SharedArrayBuffer(HEADER + RING);
  private readonly ctl = new Int32Array(this.sab, 0, 4);
  private readonly pos = new BigInt64Array(this.sab, 16, 2);
  private readonly ring = new Uint8Array(this.sab, HEADER, RING);
  private readonly worker: Worker;
  private readonly result: Promise<string>;
  /** Absolute count of bytes put into the ring. */
  private filled = 0;

  /** `prefixBytes` bytes of `prefixPath` are already downloaded (a resume): hashed first. */
  constructor(prefixPath: string, prefixBytes: number) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sab: this.sab, ringSize: RING, prefixPath, prefixBytes },
    });
    this.result = new Promise((resolve, reject) => {
      this.worker.once("message", (m: { digest?: string; error?: string }) =>
        m.error ? reject(new Error(`sha256 worker: ${m.error}`)) : resolve(m.digest as string),
      );
      this.worker.once("error", reject);
      this.worker.once("exit", (code) => reject(new Error(`sha256 worker exited (${code}) before finishing`)));
    });
    this.result.catch(() => {}); // observed by finish(); no unhandled rejection after abort
  }

  private hashed(): number {
    return Number(Atomics.load(this.pos, 1));
  }

  /** Where the next socket read should land: the ring's next room (maybe not hashed yet, see push). */
  buffer(): Uint8Array {
    const at = this.filled % RING;
    return this.ring.subarray(at, at + Math.min(MAX_READ, RING - at));
  }

  /**
   * Hands `chunk` (already written to the file) to the hasher. Zero-copy when it is the room
   * `buffer()` returned; copied otherwise. A returned promise means: read nothing more until
   * it resolves (the ring has no room for the next read yet).
   */
  push(chunk: Uint8Array): undefined | Promise<void> {
    if (chunk.buffer === this.sab && chunk.byteOffset === HEADER + (this.filled % RING)) {
      this.submit(chunk.byteLength);
    } else {
      const copied = this.copyIn(chunk, 0);
      if (copied < chunk.byteLength) return this.copyRest(chunk, copied);
    }
    return this.roomFor(this.buffer().byteLength) ? undefined : this.waitRoom(RESUME_ROOM);
  }

  /** Waits for the digest of everything pushed (and of the resumed prefix). */
  async finish(): Promise<string> {
    Atomics.store(this.ctl, 2, 1);
    this.wake();
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    Atomics.store(this.ctl, 2, 2);
    this.wake();
    await this.worker.terminate();
  }

  private submit(n: number): void {
    this.filled += n;
    Atomics.store(this.pos, 0, BigInt(this.filled));
    // Wake the worker per WAKE_BYTES, not per read: each wake is a futex call and a thread
    // switch. finish() and waitRoom() wake it for whatever is left.
    if (this.filled - this.woken >= WAKE_BYTES) this.wake();
  }

  private woken = 0;

  private wake(): void {
    this.woken = this.filled;
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }

  /** True when the next `n` bytes of the ring are hashed (free to overwrite). */
  private roomFor(n: number): boolean {
    return this.filled + n - this.hashed() <= RING;
  }

  /** Copies as much of chunk[from..] as the ring has room for; returns the new `from`. */
  private copyIn(chunk: Uint8Array, from: number): number {
    while (from < chunk.byteLength) {
      const at = this.filled % RING;
      const room = Math.min(RING - at, RING - (this.filled - this.hashed()), chunk.byteLength - from);
      if (room <= 0) break;
      this.ring.set(chunk.subarray(from, from + room), at);
      this.submit(room);
      from += room;
    }
    return from;
  }

  private async copyRest(chunk: Uint8Array, from: number): Promise<void> {
    let at = from;
    while (at < chunk.byteLength) {
      await this.waitRoom(Math.min(RESUME_ROOM, chunk.byteLength - at));
      at = this.copyIn(chunk, at);
    }
    if (!this.roomFor(this.buffer().byteLength)) await this.waitRoom(RESUME_ROOM);
  }

  /** Resolves once `n` more bytes (at most the next read's room) are hashed. */
  private async waitRoom(n: number): Promise<void> {
    const need = Math.max(n, this.buffer().byteLength);
    if (!this.roomFor(need)) this.wake();
    while (!this.roomFor(need)) {
      const seq = Atomics.load(this.ctl, 1);
      if (this.roomFor(need)) break;
      const w = waitAsync(this.ctl, 1, seq, 1000);
      if (w.async) await Promise.race([w.value, this.result.then(() => {})]);
      if (Atomics.load(this.ctl, 2) === 2) throw new Error("sha256 worker aborted");
    }
  }
}
