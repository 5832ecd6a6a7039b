/**
 * Collectives through shared memory on one machine. Each rank owns two slot files in a tmpfs
 * folder (`/dev/shm` where it exists); a collective writes the rank's buffer to its slot,
 * waits at a barrier kept by the launcher (over the IPC channel `hearth launch` opens), then
 * reads every rank's slot. Collectives alternate between the two slots, so a fast rank writing
 * collective n+1 never overwrites what a slow rank still reads of collective n (it cannot pass
 * barrier n+1 before every rank has finished reading n, and n+2 reuses n's slot only after it).
 * Reductions sum in rank order in float64, so every rank gets bit-identical results.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AccelerateError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Messages between a worker and the launcher. */
export interface BarrierMessage {
  hearth: "barrier" | "release";
  seq: number;
}

export class ShmTransport implements Transport {
  private seq = 0;
  private readonly waiting = new Map<number, () => void>();
  private readonly released = new Set<number>();
  private readonly fds: number[][] = [];
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
    if (!process.send) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DISTRIBUTED",
        "ShmTransport: this process has no IPC channel; start it with `hearth launch`",
      );
    }
    for (let r = 0; r < worldSize; r++) {
      this.fds.push([0, 1].map((s) => openSync(join(dir, `rank-${r}.slot-${s}`), r === rank ? "w+" : "r")));
    }
    process.on("message", this.onMessage);
    process.channel?.unref();
  }

  async barrier(): Promise<void> {
    const seq = this.seq++;
    await new Promise<void>((resolve) => {
      if (this.released.delete(seq)) return resolve();
      this.waiting.set(seq, resolve);
      process.channel?.ref(); // keep the process alive while waiting for the release
      (process.send as (m: BarrierMessage) => void)({ hearth: "barrier", seq });
    });
    if (this.waiting.size === 0) process.channel?.unref();
  }

  /** Writes this rank's buffer into the slot of the next collective, then waits for everyone. */
  private async exchange(data: Float32Array): Promise<number> {
    const slot = this.seq % 2;
    const fd = (this.fds[this.rank] as number[])[slot] as number;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, done);
    await this.barrier();
    return slot;
  }

  private read(rank: number, slot: number, length?: number): Float32Array {
    const fd = (this.fds[rank] as number[])[slot] as number;
    const n = length ?? fstatSync(fd).size / 4;
    const out = new Float32Array(n);
    const bytes = new Uint8Array(out.buffer);
    let done = 0;
    while (done < bytes.length) {
      const got = readSync(fd, bytes, done, bytes.length - done, done);
      if (got === 0) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_DISTRIBUTED",
          `ShmTransport: rank ${rank} wrote ${done} bytes, rank ${this.rank} expected ${bytes.length} (mismatched collectives?)`,
        );
      }
      done += got;
    }
    return out;
  }

  async allReduceSum(data: Float32Array): Promise<void> {
    const slot = await this.exchange(data);
    const acc = new Float64Array(data.length);
    for (let r = 0; r < this.worldSize; r++) {
      const part = r === this.rank ? data : this.read(r, slot, data.length);
      for (let i = 0; i < acc.length; i++) acc[i] = (acc[i] as number) + (part[i] as number);
    }
    data.set(acc);
  }

  async allGather(data: Float32Array): Promise<Float32Array[]> {
    // lengths first (a second exchange), so a rank's file size never has to be trusted
    const lengths = await this.allGatherFixed(new Float32Array([data.length]));
    const slot = await this.exchange(data);
    return lengths.map((n, r) => (r === this.rank ? data.slice() : this.read(r, slot, n[0] as number)));
  }

  private async allGatherFixed(data: Float32Array): Promise<Float32Array[]> {
    const slot = await this.exchange(data);
    return Array.from({ length: this.worldSize }, (_, r) =>
      r === this.rank ? data.slice() : this.read(r, slot, data.length),
    );
  }

  async broadcast(data: Float32Array, root = 0): Promise<void> {
    const slot = await this.exchange(data);
    if (this.rank !== root) data.set(this.read(root, slot, data.length));
  }

  async close(): Promise<void> {
    process.off("message", this.onMessage);
    for (const pair of this.fds) for (const fd of pair) closeSync(fd);
    this.fds.length = 0;
  }
}
