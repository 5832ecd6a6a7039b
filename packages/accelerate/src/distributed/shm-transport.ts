/**
 * Collectives through shared memory on one machine, with no serialisation. Every rank owns
 * buffer files in a tmpfs folder (`/dev/shm` where it exists), mapped shared into every rank
 * (the native `mapShared`; without the addon the same files are read and written with
 * pread/pwrite, see `shm-region.ts`). Processes synchronise through named pipes, one per ordered
 * pair of ranks (`pipe-<from>-<to>`): a barrier writes one byte into the pipe to every peer and
 * blocks in `read` on the pipe from every peer, so a waiting process sleeps in the kernel
 * instead of spinning or relaying messages through the launcher. (Where named pipes cannot be
 * made, the launcher's IPC channel keeps the barrier.)
 *
 * `allReduceSum` is a reduce-scatter and an all-gather done in one pass over shared memory,
 * two barriers in all: every rank puts its buffer in its reduce file (nothing to copy when the
 * caller filled {@link ShmTransport.allReduceBuffer}); after a barrier, rank r sums chunk r
 * of every rank's buffer in rank order (float64 for more than 2 ranks; for 2, float32 addition
 * with the native addon's vectorised kernel) and writes the result into chunk r of every rank's buffer; after
 * the second barrier every buffer holds the whole result. Every rank does 1/N of the additions
 * and ends with bit-identical values. No rank touches another's chunk during the summing phase,
 * and a rank refills its own buffer for the next all-reduce only after the second barrier, when
 * every peer is done with it. Only the array {@link ShmTransport.allReduceBuffer} handed out is
 * reduced in the reduce files; an all-reduce of any other array (a metric, ZeRO's gradient
 * norms) runs the same way through the next slot, so it never overwrites what a caller keeps
 * there.
 *
 * The other collectives alternate between two slots per rank, so a fast rank writing
 * collective n+1 never overwrites what a slow rank still reads of collective n (it cannot pass
 * the first barrier of n+1 before every rank has finished n, and n+2 reuses n's slot only after
 * that).
 */
import { closeSync, existsSync, openSync, readSync, writeSync } from "node:fs";
import { join } from "node:path";
import { native } from "@hearth/tensor/native";
import { AccelerateError } from "../errors.ts";
import { canMap, openRegion, type Region, type ShmIo } from "./shm-region.ts";
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

/** The all-reduce (and reduce-scatter) buffer file of `rank`. */
export const reducePath = (dir: string, rank: number) => join(dir, `rank-${rank}.reduce`);

/** The segment all-gather buffer file of `rank`. */
export const gatherPath = (dir: string, rank: number) => join(dir, `rank-${rank}.gather`);

export class ShmTransport implements Transport {
  private seq = 0;
  private collective = 0;
  private readonly waiting = new Map<number, () => void>();
  private readonly released = new Set<number>();
  /** Each rank's two slots, and each rank's all-reduce buffer. */
  private readonly slots: Region[][] = [];
  private readonly reduce: Region[] = [];
  private readonly gather: Region[] = [];
  /** The array {@link allReduceBuffer} last handed out (all of it, for file regions). */
  private reduceArray: Float32Array | null = null;
  /** How the buffers are reached: "mapped" (shared mappings) or "files" (pread/pwrite). */
  readonly io: ShmIo;
  /** Pipes to each peer (write) and from each peer (read), by rank; null where named pipes are unavailable. */
  private readonly pipesOut: (number | null)[] = [];
  private readonly pipesIn: (number | null)[] = [];
  private readonly token = new Uint8Array(1);
  /** Whether the read ends are read-only yet (see {@link barrier}). */
  private readOnlyEnds = false;
  private readonly onMessage = (m: unknown) => {
    const msg = m as BarrierMessage;
    if (msg?.hearth !== "release") return;
    const resolve = this.waiting.get(msg.seq);
    if (resolve) {
      this.waiting.delete(msg.seq);
      resolve();
    } else this.released.add(msg.seq);
  };

  /** `io` defaults to "mapped" where the native addon is loaded, else "files". */
  constructor(
    readonly rank: number,
    readonly worldSize: number,
    readonly dir: string,
    io?: ShmIo,
  ) {
    this.io = io ?? (canMap() ? "mapped" : "files");
    if (this.io === "mapped" && !canMap()) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DISTRIBUTED",
        "ShmTransport: io 'mapped' needs the native addon of @hearth/tensor (not loaded); use io 'files'",
      );
    }
    for (let r = 0; r < worldSize; r++) {
      this.slots.push([0, 1].map((s) => openRegion(slotPath(dir, r, s), r === rank, this.io)));
      this.reduce.push(openRegion(reducePath(dir, r), r === rank, this.io));
      this.gather.push(openRegion(gatherPath(dir, r), r === rank, this.io));
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
            `ShmTransport: rank ${this.rank} waited in barrier ${seq} for rank ${peer}, which exited or crashed (its pipe closed); training cannot go on without it`,
          );
        }
      }
      if (!this.readOnlyEnds) this.makeReadEndsReadOnly();
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

  /**
   * Reopens each pipe from a peer read-only once every peer has written into it (so holds its
   * write end): the reader's own read-write descriptor (needed to open every FIFO without
   * waiting for the other side) would otherwise keep the pipe open for writing, and a peer that
   * dies would leave this rank blocked in `read` forever instead of reading end-of-file.
   */
  private makeReadEndsReadOnly(): void {
    for (const [peer, fd] of this.pipesIn.entries()) {
      if (fd === null) continue;
      this.pipesIn[peer] = openSync(pipePath(this.dir, peer, this.rank), "r");
      closeSync(fd);
    }
    this.readOnlyEnds = true;
  }

  /** Reads elements [from, from + into.length) of `rank`'s `slot` into `into`. */
  private read(rank: number, slot: number, into: Float32Array, from = 0): Float32Array {
    return (this.slots[rank] as Region[])[slot]?.read(into, from) as Float32Array;
  }

  /** Writes `data` into the next collective's slot and waits for everyone; returns the slot. */
  private async exchange(data: Float32Array): Promise<number> {
    const slot = this.collective++ % 2;
    const own = (this.slots[this.rank] as Region[])[slot] as Region;
    own.reserve(data.length);
    own.write(data, 0);
    await this.barrier();
    return slot;
  }

  /** The chunk of `n` elements rank `r` reduces: [lo, hi). */
  private chunk(n: number, r: number): [number, number] {
    const size = Math.ceil(n / this.worldSize);
    return [Math.min(n, r * size), Math.min(n, (r + 1) * size)];
  }

  /**
   * A buffer of `length` floats in this rank's shared all-reduce file: `allReduceSum` and
   * `reduceScatterSum` reduce it in place without copying it in or out. Reused from call to
   * call (the Accelerator's flat gradient buffer); a plain array when the buffers are reached as
   * files. Only collectives on this buffer write into it: an all-reduce of any other array
   * goes through the slots, so what the caller keeps here (the Accelerator's averaged
   * gradients, which it hands out as views) lasts until its next all-reduce or reduce-scatter.
   */
  allReduceBuffer(length: number): Float32Array {
    const own = this.reduce[this.rank] as Region;
    own.reserve(length);
    const view = own.view(0, length);
    if (view) {
      this.reduceArray = view;
      return view;
    }
    // files: one array kept from call to call and grown with its contents, as the mapping is
    const kept = this.reduceArray;
    if (kept === null || kept.length < length) {
      this.reduceArray = new Float32Array(length);
      if (kept) this.reduceArray.set(kept);
    }
    return (this.reduceArray as Float32Array).subarray(0, length);
  }

  /**
   * Whether `data` is (a prefix of) the array {@link allReduceBuffer} handed out last; any other
   * array, a part of it included, is all-reduced through the slots.
   */
  private inReduceBuffer(data: Float32Array): boolean {
    const own = this.reduceArray;
    return own !== null && data.buffer === own.buffer && data.byteOffset === own.byteOffset;
  }

  async allReduceSum(data: Float32Array, scale = 1): Promise<void> {
    // the reduce files for the reduce buffer's contents, the next slot for anything else
    if (this.inReduceBuffer(data)) return this.reduceIn(this.reduce, data, scale);
    const slot = this.collective++ % 2;
    return this.reduceIn(
      this.slots.map((s) => s[slot] as Region),
      data,
      scale,
    );
  }

  /** The all-reduce of `data` through `regions` (one per rank; see the file comment). */
  private async reduceIn(regions: Region[], data: Float32Array, scale: number): Promise<void> {
    const n = data.length;
    const own = regions[this.rank] as Region;
    own.reserve(n);
    own.write(data, 0); // nothing to copy when data is allReduceBuffer(n)
    await this.barrier();
    const [lo, hi] = this.chunk(n, this.rank);
    if (hi > lo) {
      for (const r of regions) r.reserve(n); // peers grew their files before the barrier
      const views = regions.map((r) => r.view(lo, hi - lo));
      if (views.every((v) => v !== null)) sumInto(views as Float32Array[], scale);
      else {
        const parts = regions.map((r) => r.read(new Float32Array(hi - lo), lo));
        sumInto(parts, scale);
        for (const r of regions) r.write(parts[0] as Float32Array, lo);
      }
    }
    await this.barrier();
    const result = own.view(0, n);
    if (result === null) own.read(data, 0);
    else if (result.buffer !== data.buffer || result.byteOffset !== data.byteOffset) data.set(result);
  }

  /**
   * Reduce-scatter in the all-reduce buffers: after a barrier this rank sums its own segment of
   * every rank's buffer (as `allReduceSum` sums) into its own buffer only; a second
   * barrier keeps any rank from refilling its buffer while a peer still reads it.
   */
  async reduceScatterSum(data: Float32Array, bounds: readonly number[], scale = 1): Promise<void> {
    const n = data.length;
    const [lo, hi] = this.segment(bounds, n);
    const own = this.reduce[this.rank] as Region;
    own.reserve(n);
    own.write(data, 0); // nothing to copy when data is allReduceBuffer(n)
    await this.barrier();
    if (hi > lo) {
      for (const r of this.reduce) r.reserve(n);
      const views = this.reduce.map((r) => r.view(lo, hi - lo));
      const parts = views.every((v) => v !== null)
        ? (views as Float32Array[])
        : this.reduce.map((r) => r.read(new Float32Array(hi - lo), lo));
      sumIntoOne(parts, this.rank, scale);
      if (views[this.rank] === null) own.write(parts[this.rank] as Float32Array, lo);
      const result = own.view(lo, hi - lo);
      if (result === null) own.read(data.subarray(lo, hi), lo);
      else if (result.buffer !== data.buffer || result.byteOffset !== data.byteOffset + lo * 4)
        data.subarray(lo, hi).set(result);
    }
    await this.barrier();
  }

  /**
   * A buffer of `length` floats in this rank's shared gather file, which `allGatherSegments`
   * publishes without copying; a plain array when the buffers are reached as files.
   */
  gatherBuffer(length: number): Float32Array {
    const own = this.gather[this.rank] as Region;
    own.reserve(length);
    return own.view(0, length) ?? new Float32Array(length);
  }

  /**
   * In-place all-gather of segments: every rank publishes its segment in its gather buffer,
   * and after a barrier copies every peer's segment out of the peer's buffer (into `data`, or
   * straight to `visit`, which gets a view of the peer's shared memory); a second barrier keeps
   * a rank from overwriting its segment while a peer still copies it.
   */
  async allGatherSegments(
    data: Float32Array,
    bounds: readonly number[],
    visit?: (values: Float32Array, at: number) => void,
  ): Promise<void> {
    const n = data.length;
    const [lo, hi] = this.segment(bounds, n);
    const own = this.gather[this.rank] as Region;
    own.reserve(n);
    own.write(data.subarray(lo, hi), lo); // nothing to copy when data is gatherBuffer(n)
    await this.barrier();
    for (let r = 0; r < this.worldSize; r++) {
      if (r === this.rank) continue;
      const [a, b] = this.segment(bounds, n, r);
      if (b <= a) continue;
      const peer = this.gather[r] as Region;
      peer.reserve(b);
      const shared = visit ? peer.view(a, b - a) : null;
      if (shared) (visit as (values: Float32Array, at: number) => void)(shared, a);
      else {
        peer.read(data.subarray(a, b), a);
        visit?.(data.subarray(a, b), a);
      }
    }
    await this.barrier();
  }

  /** Segment [lo, hi) of `rank` in `bounds`, checked against the buffer length `n`. */
  private segment(bounds: readonly number[], n: number, rank = this.rank): [number, number] {
    const lo = bounds[rank];
    const hi = bounds[rank + 1];
    if (
      bounds.length !== this.worldSize + 1 ||
      bounds[0] !== 0 ||
      bounds[this.worldSize] !== n ||
      lo === undefined ||
      hi === undefined ||
      !(lo <= hi)
    ) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `ShmTransport: argument 'bounds' must be ${this.worldSize + 1} ascending offsets from 0 to the buffer length ${n}, got [${bounds.join(", ")}]`,
      );
    }
    return [lo, hi];
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
    for (const region of [...this.slots.flat(), ...this.reduce, ...this.gather]) region.close();
    for (const fd of [...this.pipesIn, ...this.pipesOut]) if (fd !== null) closeSync(fd);
    this.slots.length = 0;
    this.reduce.length = 0;
    this.gather.length = 0;
    this.pipesIn.length = 0;
    this.pipesOut.length = 0;
  }
}

/**
 * `out = (a + b) * scale` element-wise (`out` may be `a` or `b`), with the native addon's
 * vectorised kernels where it is loaded: the sum rounds to float32, then the product (for a
 * power-of-two scale such as 1/2 that is the single rounding of the exact result; otherwise one
 * more rounding, the same on every rank since only one rank computes each element).
 */
function addScaled(out: Float32Array, a: Float32Array, b: Float32Array, scale: number): void {
  const n = out.length;
  if (native && n > 0) {
    native.binary("add", a, 0, [1], b, 0, [1], out, [n]);
    if (scale !== 1) native.binary("mul", out, 0, [1], Float32Array.of(scale), 0, [0], out, [n]);
    return;
  }
  for (let i = 0; i < n; i++) out[i] = Math.fround((a[i] as number) + (b[i] as number)) * scale;
}

/** Sums `parts` element-wise in rank order, times `scale`, into every part (see {@link sumIntoOne}). */
function sumInto(parts: Float32Array[], scale: number): void {
  sumIntoOne(parts, 0, scale);
  for (const p of parts.slice(1)) p.set(parts[0] as Float32Array);
}

/**
 * Sums `parts` element-wise in rank order, times `scale`, into `parts[into]` only (float64 for
 * more than two parts; for two, see {@link addScaled}).
 */
function sumIntoOne(parts: Float32Array[], into: number, scale: number): void {
  const out = parts[into] as Float32Array;
  if (parts.length === 2) {
    addScaled(out, parts[0] as Float32Array, parts[1] as Float32Array, scale);
    return;
  }
  const n = out.length;
  const acc = new Float64Array(n);
  for (const p of parts) for (let i = 0; i < n; i++) acc[i] = (acc[i] as number) + (p[i] as number);
  for (let i = 0; i < n; i++) out[i] = (acc[i] as number) * scale;
}
