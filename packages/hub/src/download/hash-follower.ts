/**
 * sha256 of a file that is still being written, computed on a worker thread so hashing runs
 * beside the network and disk work instead of after it. The writer publishes how many bytes
 * are on disk through shared memory; the worker reads them back (from the page cache) and
 * hashes them, starting at byte 0, so a resumed `.incomplete` file is covered entirely.
 * Opt-in (`HEARTH_HUB_HASH_THREAD=worker`, files of 16 MiB and more); config.ts says why.
 */
import { Worker } from "node:worker_threads";

// Plain CommonJS so the worker needs no TypeScript loader, whatever started the process.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const crypto = require("node:crypto");
const { path, sab } = workerData;
const BATCH = 4 << 20;
const ctl = new Int32Array(sab, 0, 2);
const written = new BigInt64Array(sab, 8, 1);
const hash = crypto.createHash("sha256");
// 1 MiB reads: each piece is hashed while it is still in the L2 cache (woken per 4 MiB).
const buf = Buffer.allocUnsafe(1 << 20);
let fd;
let pos = 0;
try {
  fd = fs.openSync(path, "r");
  for (;;) {
    const seq = Atomics.load(ctl, 0);
    const state = Atomics.load(ctl, 1);
    if (state === 2) break;
    const end = Number(Atomics.load(written, 0));
    // Read in big pieces: fewer syscalls and wake-ups than following every network chunk.
    if (state === 0 && end - pos < BATCH) {
      Atomics.wait(ctl, 0, seq, 200);
      continue;
    }
    while (pos < end) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      pos += n;
    }
    if (state === 1 && pos >= Number(Atomics.load(written, 0))) {
      parentPort.postMessage({ digest: hash.digest("hex"), hashed: pos });
      break;
    }
    if (pos >= Number(Atomics.load(written, 0))) Atomics.wait(ctl, 0, seq, 200);
  }
} catch (err) {
  parentPort.postMessage({ error: String(err && err.message || err) });
} finally {
  if (fd !== undefined) fs.closeSync(fd);
}
`;

const BATCH = 4 << 20;

export class HashFollower {
  private readonly sab = new SharedArrayBuffer(16);
  private readonly ctl = new Int32Array(this.sab, 0, 2);
  private readonly written = new BigInt64Array(this.sab, 8, 1);
  private readonly worker: Worker;
  private readonly result: Promise<{ digest: string; hashed: number }>;

  /** `path` must exist; `initial` bytes of it are already final. */
  constructor(path: string, initial: number) {
    this.written[0] = BigInt(initial);
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, sab: this.sab } });
    this.result = new Promise((resolve, reject) => {
      this.worker.once("message", (m: { digest?: string; hashed?: number; error?: string }) =>
        m.error ? reject(new Error(m.error)) : resolve({ digest: m.digest as string, hashed: m.hashed as number }),
      );
      this.worker.once("error", reject);
      this.worker.once("exit", (code) => reject(new Error(`hash worker exited (${code}) before finishing`)));
    });
    this.result.catch(() => {}); // observed by finish(); avoid unhandled rejections on abort
  }

  private notified = 0;

  /**
   * The file now holds `bytes` final bytes. The worker is woken once per 4 MiB, not per
   * network chunk: waking it every 64 KiB costs more CPU than the hashing itself.
   */
  advance(bytes: number): void {
    Atomics.store(this.written, 0, BigInt(bytes));
    if (bytes - this.notified < BATCH) return;
    this.notified = bytes;
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }

  /** Waits for the digest of the first `bytes` bytes. */
  async finish(bytes: number): Promise<{ digest: string; hashed: number }> {
    Atomics.store(this.written, 0, BigInt(bytes));
    Atomics.store(this.ctl, 1, 1);
    Atomics.notify(this.ctl, 0);
    try {
      return await this.result;
    } finally {
      await this.worker.terminate();
    }
  }

  async abort(): Promise<void> {
    Atomics.store(this.ctl, 1, 2);
    Atomics.notify(this.ctl, 0);
    await this.worker.terminate();
  }
}
