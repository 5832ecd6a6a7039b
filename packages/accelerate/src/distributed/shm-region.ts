/**
 * One rank's buffer in the launch folder, as the shared-memory transport sees it: mapped shared
 * (the native `mapShared`, so reading a peer's data or writing into it is plain memory access)
 * or, without the native addon, read and written through the file with pread/pwrite (the same
 * bytes in tmpfs, one copy each way). Both grow on demand: the owner grows its file before a
 * collective's first barrier; peers remap after it.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";
import { mapShared, native } from "@hearth/tensor/native";
import { AccelerateError } from "../errors.ts";

/** How the transport reaches the buffers: "mapped" (shared mappings) or "files" (pread/pwrite). */
export type ShmIo = "mapped" | "files";

/** Whether shared mappings are available (the native addon is loaded). */
export const canMap = (): boolean => native !== null;

const MiB = 1 << 20;

export interface Region {
  /** Makes the region hold at least `n` float32 elements (growing the file if it is ours). */
  reserve(n: number): void;
  /** Elements [from, from + n) as a view of the shared memory, or null for file regions. */
  view(from: number, n: number): Float32Array | null;
  /** Copies `src` into the region at element `at`. */
  write(src: Float32Array, at: number): void;
  /** Copies elements [from, from + into.length) into `into`; returns `into`. */
  read(into: Float32Array, from: number): Float32Array;
  close(): void;
}

/** A shared mapping of `path`; `own` regions grow the file, peers only remap what the owner grew. */
export class MappedRegion implements Region {
  private data = new Float32Array(0);
  constructor(
    readonly path: string,
    readonly own: boolean,
  ) {}
  reserve(n: number): void {
    if (this.data.length >= n) return;
    // own: grow in whole MiB so slowly growing collectives do not remap every time
    const bytes = this.own ? Math.ceil((n * 4) / MiB) * MiB : 0;
    const buf = mapShared(this.path, bytes) as ArrayBuffer;
    this.data = new Float32Array(buf, 0, buf.byteLength >> 2);
    if (this.data.length < n) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DISTRIBUTED",
        `ShmTransport: ${this.path} holds ${this.data.length} floats, a collective expected ${n} (mismatched collectives?)`,
      );
    }
  }
  view(from: number, n: number): Float32Array {
    this.reserve(from + n);
    return this.data.subarray(from, from + n);
  }
  write(src: Float32Array, at: number): void {
    const dst = this.view(at, src.length);
    if (dst.byteOffset !== src.byteOffset || dst.buffer !== src.buffer) dst.set(src);
  }
  read(into: Float32Array, from: number): Float32Array {
    into.set(this.view(from, into.length));
    return into;
  }
  close(): void {
    this.data = new Float32Array(0); // the mapping is released when collected
  }
}

/** The same buffer through a file descriptor (no native addon). */
export class FileRegion implements Region {
  private fd: number;
  constructor(
    readonly path: string,
    readonly own: boolean,
  ) {
    this.fd = openSync(path, "r+");
  }
  reserve(n: number): void {
    if (!this.own && fstatSync(this.fd).size < n * 4) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_DISTRIBUTED",
        `ShmTransport: ${this.path} holds ${fstatSync(this.fd).size / 4} floats, a collective expected ${n} (mismatched collectives?)`,
      );
    }
  }
  view(): null {
    return null;
  }
  write(src: Float32Array, at: number): void {
    const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    for (let done = 0; done < bytes.length; )
      done += writeSync(this.fd, bytes, done, bytes.length - done, at * 4 + done);
  }
  read(into: Float32Array, from: number): Float32Array {
    const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
    for (let done = 0; done < bytes.length; ) {
      const got = readSync(this.fd, bytes, done, bytes.length - done, from * 4 + done);
      if (got === 0) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_DISTRIBUTED",
          `ShmTransport: ${this.path} ends at byte ${from * 4 + done}, a collective expected ${from * 4 + bytes.length} (mismatched collectives?)`,
        );
      }
      done += got;
    }
    return into;
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** A region of `path` reached the `io` way. */
export function openRegion(path: string, own: boolean, io: ShmIo): Region {
  return io === "mapped" ? new MappedRegion(path, own) : new FileRegion(path, own);
}
