/**
 * Content-addressed storage for LFS objects, keyed by sha256 and shared by every repo (an object
 * pushed to two repos is stored once). The interface leaves room for S3-compatible storage; the
 * local filesystem is the default.
 */
import type { Readable } from "node:stream";

export interface BlobStat {
  size: number;
}

export interface BlobStore {
  /** Size of the stored object, or undefined when absent. */
  stat(oid: string): Promise<BlobStat | undefined>;
  /**
   * Streams `source` into the store. The bytes must hash to `oid` and count `size`, otherwise
   * nothing is stored and HEARTH_HUBSERVER_LFS_HASH_MISMATCH (or TOO_LARGE) is thrown. Atomic.
   */
  put(oid: string, size: number, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void>;
  /** Reads the object, optionally only bytes [start, end] inclusive. */
  read(oid: string, range?: { start: number; end: number }): Readable;
  /**
   * Where the object lies on the local filesystem, for stores that keep it there: downloads are
   * then sent from the file with reused buffers (send-file.ts) rather than through `read`.
   */
  localPath?(oid: string): string;
  /** Stores one part of a multipart upload; returns its ETag (md5 of the part, quoted). */
  putPart(uploadId: string, partNumber: number, maxSize: number, source: AsyncIterable<Uint8Array>): Promise<string>;
  /** Concatenates parts 1..n, verifies sha256 and size, stores the object, drops the parts. */
  completeMultipart(uploadId: string, oid: string, size: number, partCount: number): Promise<void>;
}

/** Lower-case 64-hex sha256. */
export const isSha256 = (s: unknown): s is string => typeof s === "string" && /^[0-9a-f]{64}$/.test(s);
