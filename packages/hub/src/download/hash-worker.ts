/**
 * sha256 of a download on a worker thread that reads the `.incomplete` file back from the page
 * cache, behind the thread that receives and writes it. The receiving thread only publishes how
 * many bytes are in the file (`wrote`, after each write has returned); the worker preads up to
 * that count and hashes. So the digest is the digest of the bytes in the file that is renamed
 * into the cache, and a resumed download's prefix is simply where the count starts.
 *
 * Why read the file back rather than hand the socket reads over in shared memory (a 2 MiB ring,
 * the previous design): a ring is memory that both cores write and read in turn, so its cache
 * lines cross between the cores twice per use, and the receiving thread has to wait whenever the
 * hash falls a ring behind. Here the socket reads land in one private 256 KiB buffer that stays
 * in the receiving core's cache, the receiving thread never waits for the hash (the file is the
 * buffer: no backpressure, no wake-up per read; the worker is woken only when it has caught up
 * and slept), and the worker pays one page-cache copy (~0.1 s/GiB) for it. Measured on the
 * loaded 2-core bench machine, 1 GiB from a sendfile server (the server costing ~0.05 CPU s, as
 * a remote hub would), medians of 7 interleaved runs: this 1.13 s/GiB wall and 1.67 CPU s/GiB,
 * the ring 1.35 and 2.03, inline 1.59 and 1.48, curl without a hash 0.94. Against the Hearth
 * server on the same 2 cores (three busy threads) the two were within noise of each other.
 *
 * The ring was tried again (session 6: 2 MiB, socket reads landing in it through `onread`, a
 * blocking wait for room with a 1 MiB hysteresis): its worker did drop the read-back (0.87 vs
 * 1.02 CPU s/GiB) but the receiving thread rose by more (0.7-1.05 vs 0.55-0.6), and perf put that
 * in the page-cache write: copy_folio_from_iter_atomic cost 0.44 s/GiB copying out of the shared
 * ring against 0.07-0.15 out of this private buffer. Total 1.79-2.13 vs 1.56-1.67 CPU s/GiB
 * (sendfile server, three pairs, load ~7). A synthetic run with the ring filled by a memcpy
 * instead of a socket read favoured the ring, so measure with a real socket before trying again.
 * Session 7 tried the other way round: socket reads into the private buffer as now, each copied
 * into an 8 MiB (or 2 MiB) shared ring that the worker hashes from (no read-back), the receiving
 * thread blocking while the ring is full. 1 GiB from the Hearth server, 4 interleaved runs,
 * load ~1.7: hash thread 0.84-0.90 vs 1.00-1.05 CPU s/GiB, but receiving thread 0.84-1.44 vs
 * 0.46-0.75 (the ring's cache lines cross between the cores both ways, once per use; the copy
 * itself is 0.08 s/GiB), wall 1.25-1.60 vs 1.22-1.28 s/GiB. Not kept.
 *
 * Layout of the shared control block: Int32 [seq, _, state, sleeping] (state 0 running,
 * 1 finishing, 2 aborted), then BigInt64 [written, hashed] (absolute byte counts).
 */
import { Worker } from "node:worker_threads";
import type { HashThread, HashThreadProfile } from "./hash-thread.ts";

// Plain CommonJS so the worker needs no TypeScript loader, whatever started the process. The
// worker always ends by itself (its file closed first), never by terminate(), which could stop
// it between open and close and leak the descriptor.
const WORKER_SOURCE = `
const { workerData, parentPort } = require("node:worker_threads");
const fs = require("node:fs");
const crypto = require("node:crypto");
const { sab, path, readSize } = workerData;
// CPU time of this thread in ms (utime + stime, USER_HZ = 100); NaN where there is no /proc.
function cpuMs() {
  try {
    const s = fs.readFileSync("/proc/thread-self/stat", "latin1");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}
// Time this thread was runnable but waiting for a core, in ms (schedstat's 2nd field, ns).
function queuedMs() {
  try {
    return Number(fs.readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[1]) / 1e6;
  } catch {
    return NaN;
  }
}
const bootedAt = performance.timeOrigin + performance.now();
let readMs = 0;
let hashMs = 0;
let waitMs = 0;
const ctl = new Int32Array(sab, 0, 4);
const pos = new BigInt64Array(sab, 16, 2);
const hash = crypto.createHash("sha256");
let fd = -1;
let message;
try {
  fd = fs.openSync(path, "r");
  const buf = Buffer.allocUnsafe(readSize);
  let hashed = 0;
  for (;;) {
    const seq = Atomics.load(ctl, 0);
    const state = Atomics.load(ctl, 2);
    if (state === 2) break;
    const written = Number(Atomics.load(pos, 0));
    if (hashed < written) {
      while (hashed < written && Atomics.load(ctl, 2) !== 2) {
        const r0 = performance.now();
        const n = fs.readSync(fd, buf, 0, Math.min(buf.length, written - hashed), hashed);
        if (n <= 0) throw new Error("the .incomplete file is shorter than the bytes written to it (changed on disk?)");
        const r1 = performance.now();
        hash.update(buf.subarray(0, n));
        readMs += r1 - r0;
        hashMs += performance.now() - r1;
        hashed += n;
      }
      Atomics.store(pos, 1, BigInt(hashed));
      continue;
    }
    if (state === 1) {
      message = { digest: hash.digest("hex"), cpuMs: cpuMs(), queuedMs: queuedMs(), bootedAt, readMs, hashMs, waitMs };
      break;
    }
    // Caught up: sleep until more is written (the writer wakes a sleeping worker only; the
    // count is read again after raising the flag, so a write in between is not slept through).
    Atomics.store(ctl, 3, 1);
    const w0 = performance.now();
    if (Number(Atomics.load(pos, 0)) === hashed) Atomics.wait(ctl, 0, seq);
    waitMs += performance.now() - w0;
    Atomics.store(ctl, 3, 0);
  }
} catch (err) {
  message = { error: String((err && err.message) || err) };
}
if (fd >= 0) fs.closeSync(fd);
if (message) parentPort.postMessage(message);
`;

/** Each pread of the worker: 1 MiB stays in its L2 cache between the copy and the hash. */
const READ_SIZE = 1 << 20;
/** A sleeping worker is woken once this much more has been written (or at finish). */
const WAKE_BYTES = 4 << 20;

interface WorkerMessage {
  digest?: string;
  error?: string;
  cpuMs?: number;
  queuedMs?: number;
  bootedAt?: number;
  readMs?: number;
  hashMs?: number;
  waitMs?: number;
}

export class HashWorker implements HashThread {
  readonly kind = "worker";
  private readonly sab = new SharedArrayBuffer(32);
  private readonly ctl = new Int32Array(this.sab, 0, 4);
  private readonly pos = new BigInt64Array(this.sab, 16, 2);
  private readonly worker: Worker;
  private readonly result: Promise<string>;
  private readonly exited: Promise<void>;
  /** Bytes in the file, the resumed prefix included. */
  private written: number;
  private woken: number;
  /**
   * CPU milliseconds the hash thread used, from its start (booting included) to its digest (Linux; NaN elsewhere
   * or until {@link finish} has returned). A benchmark reads it to tell the parties' CPU apart.
   */
  cpuMs = Number.NaN;
  /** Milliseconds the hash thread was ready to run but waited for a core (Linux schedstat; else NaN). */
  queuedMs = Number.NaN;
  /**
   * Where the hash thread's time went (wall-clock ms, known once {@link finish} has returned):
   * `boot` from the constructor to its first line of code, then the preads of the file (`read`),
   * the sha256 updates (`hash`) and the sleeps while it had caught up with the writer (`wait`).
   */
  profile: HashThreadProfile | undefined;
  private readonly startedAt = performance.timeOrigin + performance.now();

  /** Hashes `path` from byte 0; its first `prefixBytes` bytes are already there (a resume). */
  constructor(path: string, prefixBytes: number) {
    this.written = prefixBytes;
    this.woken = prefixBytes;
    Atomics.store(this.pos, 0, BigInt(prefixBytes));
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { sab: this.sab, path, readSize: READ_SIZE },
    });
    this.result = new Promise((resolve, reject) => {
      this.worker.once("message", (m: WorkerMessage) => {
        if (m.cpuMs !== undefined) this.cpuMs = m.cpuMs;
        if (m.queuedMs !== undefined) this.queuedMs = m.queuedMs;
        if (m.bootedAt !== undefined)
          this.profile = {
            boot: m.bootedAt - this.startedAt,
            read: m.readMs ?? Number.NaN,
            hash: m.hashMs ?? Number.NaN,
            wait: m.waitMs ?? Number.NaN,
          };
        if (m.error) reject(new Error(`sha256 worker: ${m.error}`));
        else resolve(m.digest as string);
      });
      this.worker.once("error", reject);
      this.worker.once("exit", (code) => reject(new Error(`sha256 worker exited (${code}) before finishing`)));
    });
    this.result.catch(() => {}); // observed by finish(); no unhandled rejection after abort
    this.exited = new Promise((resolve) => this.worker.once("exit", () => resolve()));
  }

  /** `n` more bytes are in the file (call after the write has returned). Never waits. */
  wrote(n: number): void {
    this.written += n;
    Atomics.store(this.pos, 0, BigInt(this.written));
    if (this.written - this.woken >= WAKE_BYTES && Atomics.load(this.ctl, 3) === 1) this.wake();
  }

  /** The digest of the whole file as written (waits for the worker to hash the rest). */
  async finish(): Promise<string> {
    Atomics.store(this.ctl, 2, 1);
    this.wake();
    try {
      return await this.result;
    } finally {
      await this.exited;
    }
  }

  /** Stops the worker (it stops within one 1 MiB read) and waits until it has ended. */
  async abort(): Promise<void> {
    Atomics.store(this.ctl, 2, 2);
    this.wake();
    await this.exited;
  }

  private wake(): void {
    this.woken = this.written;
    Atomics.add(this.ctl, 0, 1);
    Atomics.notify(this.ctl, 0);
  }
}
