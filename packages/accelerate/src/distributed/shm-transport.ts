/**
 * Collectives through shared memory on one machine, with no serialisation: buffers travel as
 * raw bytes through slot files in a tmpfs folder (`/dev/shm` where it exists), and processes
 * synchronise through named pipes, one per ordered pair of ranks (`pipe-<from>-<to>`): a barrier
 * writes one byte into the pipe to every peer and blocks in `read` on the pipe from every peer,
 * so a waiting process sleeps in the kernel instead of spinning or relaying messages through the
 * launcher. (Where named pipes cannot be made, the launcher's IPC channel keeps the barrier.)
 *
 * `allReduceSum` is a reduce-scatter followed by an all-gather: every rank writes its buffer to
 * its slot; after a barrier, rank r sums chunk r of every rank's buffer, in rank order (float64
 * for more than 2 ranks; for 2, float32 addition is already exact-then-rounded) and writes the
 * result over chunk r of its own slot, which no other rank reads; after a second barrier each
 * rank reads the reduced chunks. Every rank does 1/N of the additions and ends with
 * bit-identical values.
 *
 * Collectives alternate between two slots per rank, so a fast rank writing collective n+1 never
 * overwrites what a slow rank still reads of collective n (it cannot pass the first barrier of
 * n+1 before every rank has finished n, and n+2 reuses n's slot only after that).
 */
import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AccelerateError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Messages between a worker and the launcher (the fallback barrier). */
export interface BarrierMessage {
  hearth: "barrier" | "release";
  seq: number;
}

/** The named pipe `from` writes and `to` reads, in the launch folder `dir`. */
export const pipePath = (dir: string, from: number, to: number) => join(dir, `pipe-${from}-${to}`);

/** The slot file `slot` (0 or 1) of `rank`. */
export const slotPath = (dir: string, rank: number, slot: number) => join(dir, `rank-${rank}.slot-${slot}`);

export class ShmTransport implements Transport {
  private seq = 0;
  private collective = 0;
  private readonly waiting = new Map<number, () => void>();
  private readonly released = new Set<number>();
  private readonly fds: number[][] = [];
  /** Pipes to each peer (write) and from each peer (read), by rank; null where named pipes are unavailable. */
  private readonly pipesOut: (number | null)[] = [];
  private readonly pipesIn: (number | null)[] = [];
  private readonly token = new Uint8Array(1);
  private readonly onMessage = (m: unknown) => {
    const msg = m as BarrierMessage;
    if (msg?.hearth !== "release") return;
    const resolve = this.waiting.get(msg.seq);
    if (resolve) {
      this.waiting.delete(msg.seq);
      resolve();
    } else this.released.add(msg.seq);
  };

  constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly dir: string,
  ) {
    for (let r = 0; r < worldSize; r++) {
      this.fds.push([0, 1].map((s) => openSync(slotPath(dir, r, s), r === rank ? "w+" : "r")));
    }
    const piped = worldSize > 1 && existsSync(pipePath(dir, rank === 0 ? 1 : 0, rank));
    for (let r = 0; r < worldSize; r++) {
      // "r+" (O_RDWR) opens a FIFO without waiting for the other end (Linux); reads still block
      this.pipesOut.push(piped && r !== rank ? openSync(pipePath(dir, rank, r), "r+") : null);
      this.pipesIn.push(piped && r !== rank ? openSync(pipePath(dir, r, rank), "r+") : null);
    }
    if (!piped) {
      if (!process.send) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_DISTRIBUTED",
          "ShmTransport: no named pipes in the launch folder and no IPC channel; start the script with `hearth launch`",
        );
      }
      process.on("message", this.onMessage);
      process.channel?.unref();
    }
  }

  /** Whether the barrier runs over named pipes (else over the launcher's IPC channel). */
  get usesPipes(): boolean {
    return this.pipesIn.some((fd) => fd !== null);
  }

  async barrier(): Promise<void> {
    const seq = this.seq++;
    if (this.usesPipes) {
      for (const fd of this.pipesOut) if (fd !== null) writeSync(fd, this.token, 0, 1);
      for (const [peer, fd] of this.pipesIn.entries()) {
        if (fd === null) continue;
        if (readSync(fd, this.token, 0, 1, null) !== 1) {
          throw new AccelerateError(
            "HEARTH_ACCELERATE_DISTRIBUTED",
            `ShmTransport: the pipe from rank ${peer} closed during barrier ${seq}`,
          );
        }
      }
      return;
    }
    await new Promise<void>((resolve) => {
      if (this.released.delete(seq)) return resolve();
      this.waiting.set(seq, resolve);
      process.channel?.ref(); // keep the process alive while waiting for the release
      (process.send as (m: BarrierMessage) => void)({ hearth: "barrier", seq });
    });
    if (this.waiting.size === 0) process.channel?.unref();
  }

  private fd(rank: number, slot: number): number {
    return (this.fds[rank] as number[])[slot] as number;
  }

  /** Writes `data` into this rank's `slot`, starting at element `at`. */
  private write(slot: number, data: Float32Array, at = 0): void {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const fd = this.fd(this.rank, slot);
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, at * 4 + done);
  }

  /** Reads elements [from, from + into.length) of `rank`'s `slot` into `into`. */
  private read(rank: number, slot: number, into: Float32Array, from = 0): Float32Array {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    const fd = this.fd(rank, slot);
    let done = 0;
    while (done < bytes.length) {
      const got = readSync(fd, bytes, done, bytes.length - done, from * 4 + done);
      if (got === 0) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_DISTRIBUTED",
          `ShmTransport: rank ${rank} wrote ${from * 4 + done} bytes, rank ${this.rank} expected ${from * 4 + bytes.length} (mismatched collectives?)`,
        );
      }
      done += got;
    }
    return into;
  }

  /** Writes `data` into the next collective's slot and waits for everyone; returns the slot. */
  private async exchange(data: Float32Array): Promise<number> {
    const slot = this.collective++ % 2;
    this.write(slot, data);
    await this.barrier();
    return slot;
  }

  /** The chunk of `n` elements rank `r` reduces: [lo, hi). */
  private chunk(n: number, r: number): [number, number] {
    const size = Math.ceil(n / this.worldSize);
    return [Math.min(n, r * size), Math.min(n, (r + 1) * size)];
  }

  async allReduceSum(data: Float32Array, scale = 1): Promise<void> {
    const slot = await this.exchange(data);
    const [lo, hi] = this.chunk(data.length, this.rank);
    const mine = data.subarray(lo, hi);
    const part = new Float32Array(hi - lo);
    if (this.worldSize === 2) {
      // a + b in float64 rounded to float32 is float32 addition; both orders give the same bits
      const other = this.read(1 - this.rank, slot, part, lo);
      for (let i = 0; i < mine.length; i++) mine[i] = ((mine[i] as number) + (other[i] as number)) * scale;
    } else {
      const acc = new Float64Array(hi - lo);
      for (let r = 0; r < this.worldSize; r++) {
        const src = r === this.rank ? mine : this.read(r, slot, part, lo);
        for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (src[i] as number);
      }
      for (let i = 0; i < acc.length; i++) mine[i] = (acc[i] as number) * scale;
    }
    // the reduced chunk goes over this rank's own chunk of its slot, which no peer reads
    this.write(slot, mine, lo);
    await this.barrier();
    for (let r = 0; r < this.worldSize; r++) {
      if (r === this.rank) continue;
      const [a, b] = this.chunk(data.length, r);
      if (b > a) this.read(r, slot, data.subarray(a, b), a);
    }
  }

  async allGather(data: Float32Array): Promise<Float32Array[]> {
    // lengths first (a second exchange), so a rank's file size never has to be trusted
    const lengths = await this.allGatherFixed(new Float32Array([data.length]));
    const slot = await this.exchange(data);
    return lengths.map((n, r) =>
      r === this.rank ? data.slice() : this.read(r, slot, new Float32Array(n[0] as number)),
    );
  }

  private async allGatherFixed(data: Float32Array): Promise<Float32Array[]> {
    const slot = await this.exchange(data);
    return Array.from({ length: this.worldSize }, (_, r) =>
      r === this.rank ? data.slice() : this.read(r, slot, new Float32Array(data.length)),
    );
  }

  async broadcast(data: Float32Array, root = 0): Promise<void> {
    const slot = await this.exchange(data);
    if (this.rank !== root) this.read(root, slot, data);
  }

  async close(): Promise<void> {
    process.off("message", this.onMessage);
    for (const pair of this.fds) for (const fd of pair) closeSync(fd);
    for (const fd of [...this.pipesIn, ...this.pipesOut]) if (fd !== null) closeSync(fd);
    this.fds.length = 0;
    this.pipesIn.length = 0;
    this.pipesOut.length = 0;
  }
}
