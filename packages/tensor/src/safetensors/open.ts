/**
 * Lazy, zero-copy reading of one safetensors file: the file is mapped private copy-on-write, the
 * header parsed once, and each tensor handed out as a view over the mapping. Nothing is read from
 * disk until a tensor's bytes are touched (page faults, not copies). Where mapping is not possible
 * (no native addon, files over 4 GiB) each tensor is read into its own memory on demand.
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import { allocateAligned, mapFile, native } from "../native/index.ts";
import type { Tensor } from "../tensor.ts";
import type { SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail, SafetensorsError } from "./errors.ts";
import { MAX_HEADER_BYTES, parseHeader, type SafetensorsHeader, type TensorInfo } from "./header.ts";
import { loadTensors, type ToTensorOptions, toTensor } from "./tensors.ts";

/** A tensor as stored: dtype, shape and its little-endian bytes (a view, never a copy). */
export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: Uint8Array;
}

/**
 * Anything tensors can be read from by name: one file ({@link SafetensorsFile}) or a sharded
 * checkpoint ({@link ShardedCheckpoint}).
 */
export interface TensorSource {
  /** Tensor names, sorted (code-point order, as the Python `safe_open(...).keys()`). */
  keys(): string[];
  /** Whether the source holds `name`. */
  has(name: string): boolean;
  /** dtype, shape and offsets of `name`, without touching its data. */
  info(name: string): TensorInfo;
  /** `name`'s bytes as a zero-copy view. */
  raw(name: string): RawTensor;
  /** `name` as a {@link Tensor}: a view of the file where the dtype allows, converted otherwise. */
  tensor(name: string, options?: ToTensorOptions): Tensor;
  /** The `__metadata__` map (for a sharded checkpoint: the index's `metadata`). */
  readonly metadata: Record<string, unknown> | null;
}

/** Code-point order, which is the byte order of the UTF-8 names (what Rust's `String` sorts by). */
export function compareNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i) as number;
    const y = b.codePointAt(i) as number;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Reads `[begin, end)` of the file (absolute offsets). */
type ReadRange = (begin: number, end: number) => Uint8Array;

/**
 * One safetensors file, opened lazily. Obtain it with {@link safeOpen} or {@link deserialize}.
 */
export class SafetensorsFile implements TensorSource {
  /** Where the file came from (a path, or `<bytes>`). */
  readonly source: string;
  /** The `__metadata__` string map, or `null`. */
  readonly metadata: Record<string, string> | null;
  /** Whether tensors view the file's mapping or memory (`false`: each `raw()` reads a copy). */
  readonly zeroCopy: boolean;
  readonly #size: number;
  readonly #read: ReadRange;
  readonly #header: SafetensorsHeader;
  readonly #close: () => void;

  /** @internal Use {@link safeOpen} or {@link deserialize}. */
  constructor(
    header: SafetensorsHeader,
    source: string,
    size: number,
    read: ReadRange,
    zeroCopy: boolean,
    close: () => void = () => {},
  ) {
    this.#header = header;
    this.#close = close;
    this.#size = size;
    this.#read = read;
    this.source = source;
    this.metadata = header.metadata;
    this.zeroCopy = zeroCopy;
  }

  keys(): string[] {
    return [...this.#header.tensors.keys()].sort(compareNames);
  }

  /** Tensor names in the order their data is laid out in the file. */
  keysInFileOrder(): string[] {
    return [...this.#header.tensors.keys()];
  }

  has(name: string): boolean {
    return this.#header.tensors.has(name);
  }

  info(name: string): TensorInfo {
    const info = this.#header.tensors.get(name);
    if (!info) {
      const known = this.#header.tensors.size;
      return fail(
        Code.TENSOR_NOT_FOUND,
        `safetensors: ${this.source} has no tensor '${name}' (it holds ${known} tensor${known === 1 ? "" : "s"}; see keys())`,
      );
    }
    return { dtype: info.dtype, shape: [...info.shape], dataOffsets: [...info.dataOffsets] };
  }

  raw(name: string): RawTensor {
    const info = this.info(name);
    const begin = this.#header.dataStart + info.dataOffsets[0];
    const end = this.#header.dataStart + info.dataOffsets[1];
    return { dtype: info.dtype, shape: info.shape, data: this.#read(begin, end) };
  }

  tensor(name: string, options?: ToTensorOptions): Tensor {
    return toTensor(this.raw(name), options, name);
  }

  /**
   * Releases the file descriptor of an unmapped file now rather than when the object is
   * collected; `raw()` then throws. Mapped files need no closing (tensors keep the mapping alive).
   */
  close(): void {
    this.#close();
  }

  /** Bytes of tensor data in the file. */
  get dataBytes(): number {
    return this.#size - this.#header.dataStart;
  }

  /** Number of elements of every tensor together. */
  get numElements(): number {
    let total = 0;
    for (const info of this.#header.tensors.values()) total += info.shape.reduce((a, b) => a * b, 1);
    return total;
  }
}

/**
 * Node 20 cannot hand JavaScript an external buffer larger than 4 GiB, so larger files are mapped
 * one tensor at a time (or, without the addon's ranged mapping, read tensor by tensor).
 */
export const MAX_MAPPED_BYTES = 2 ** 32;

/** Options for {@link safeOpen}. */
export interface SafeOpenOptions {
  /**
   * Map the file (zero-copy, the default where the native addon is present; files over
   * {@link MAX_MAPPED_BYTES} are mapped a tensor at a time), or `false`: read each tensor into its
   * own memory when it is asked for.
   */
  mmap?: boolean;
}

/**
 * Opens `path` and validates its header; tensors are read on demand. By default the file is
 * mapped private copy-on-write: tensors view the mapping, writing into one never reaches the file,
 * and the mapping is released when the file object and every view over it have been collected.
 * Files over 4 GiB are mapped a tensor at a time. Without the native addon (or with `mmap: false`)
 * each tensor is read into fresh memory when asked for (the header is all that is read up front).
 *
 * @example
 * const f = await safeOpen("model.safetensors");
 * console.log(f.keys(), f.metadata);
 * const wte = f.raw("transformer.wte.weight"); // { dtype: "F32", shape: [1000, 64], data: Uint8Array }
 */
export async function safeOpen(path: string, options: SafeOpenOptions = {}): Promise<SafetensorsFile> {
  return safeOpenSync(path, options);
}

/** Synchronous {@link safeOpen}. */
export function safeOpenSync(path: string, options: SafeOpenOptions = {}): SafetensorsFile {
  let size: number;
  try {
    const stats = statSync(path);
    if (!stats.isFile()) throw new Error("not a regular file");
    size = stats.size;
  } catch (error) {
    return fail(Code.IO, `safetensors: cannot open ${path}: ${(error as Error).message}`, error);
  }
  const mmap = options.mmap ?? native !== null;
  if (mmap && size <= MAX_MAPPED_BYTES) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(mapFile(path));
    } catch (error) {
      return fail(Code.IO, `safetensors: cannot map ${path}: ${(error as Error).message}`, error);
    }
    return new SafetensorsFile(parseHeader(bytes, path, size), path, size, (b, e) => bytes.subarray(b, e), true);
  }
  // Keep the descriptor open: reads then see this file even if it is replaced (renamed over)
  // later, as a mapping would. It is closed when the file object is collected, or by close().
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    return fail(Code.IO, `safetensors: cannot open ${path}: ${(error as Error).message}`, error);
  }
  const handle: Handle = { fd };
  const copy = (begin: number, end: number) => readRange(handle, path, begin, end);
  // Over 4 GiB: map each tensor's own range where the addon can (still zero-copy).
  const windows = mmap ? (native as { mapFdRange?: MapFdRange } | null)?.mapFdRange : undefined;
  const read = windows
    ? (begin: number, end: number) =>
        end - begin <= MAX_MAPPED_BYTES ? mapWindow(windows, handle, path, begin, end) : copy(begin, end)
    : copy;
  try {
    const first = copy(0, Math.min(8, size));
    const declared = size >= 8 ? new DataView(first.buffer, first.byteOffset, 8).getBigUint64(0, true) : 0n;
    const headerEnd = declared <= BigInt(Math.min(MAX_HEADER_BYTES, size - 8)) ? 8 + Number(declared) : 8;
    const header = parseHeader(headerEnd > 8 ? copy(0, headerEnd) : first, path, size);
    const file = new SafetensorsFile(header, path, size, read, windows !== undefined, () => closeHandle(handle));
    descriptors.register(file, handle, handle);
    return file;
  } catch (error) {
    closeHandle(handle);
    throw error;
  }
}

type MapFdRange = (fd: number, offset: number, length: number) => ArrayBuffer;

function mapWindow(map: MapFdRange, handle: Handle, path: string, begin: number, end: number): Uint8Array {
  if (handle.fd === null) fail(Code.IO, `safetensors: ${path} was closed`);
  try {
    return new Uint8Array(map(handle.fd, begin, end - begin));
  } catch (error) {
    return fail(
      Code.IO,
      `safetensors: cannot map bytes ${begin}..${end} of ${path}: ${(error as Error).message}`,
      error,
    );
  }
}

interface Handle {
  fd: number | null;
}

function closeHandle(handle: Handle): void {
  if (handle.fd !== null) closeSync(handle.fd);
  handle.fd = null;
  descriptors.unregister(handle);
}

/** Closes the descriptors of unmapped files that were collected without close(). */
const descriptors = new FinalizationRegistry<Handle>((handle) => {
  if (handle.fd !== null) closeSync(handle.fd);
  handle.fd = null;
});

/** Reads `[begin, end)` of the open file into fresh 64-byte-aligned memory. */
function readRange(handle: Handle, path: string, begin: number, end: number): Uint8Array {
  if (handle.fd === null) fail(Code.IO, `safetensors: ${path} was closed`);
  const out = new Uint8Array(allocateAligned(end - begin));
  try {
    for (let at = 0; at < out.byteLength; ) {
      const n = readSync(handle.fd, out, at, Math.min(out.byteLength - at, 1 << 30), begin + at);
      if (n === 0) fail(Code.TRUNCATED, `safetensors: ${path} ended at byte ${begin + at} while reading to ${end}`);
      at += n;
    }
  } catch (error) {
    if (error instanceof SafetensorsError) throw error;
    return fail(Code.IO, `safetensors: cannot read ${path}: ${(error as Error).message}`, error);
  }
  return out;
}

/**
 * Parses a safetensors file already in memory (as the Python `safetensors.deserialize`/`load`).
 * Tensors view `bytes`; nothing is copied.
 */
export function deserialize(bytes: Uint8Array, source = "<bytes>"): SafetensorsFile {
  const header = parseHeader(bytes, source);
  return new SafetensorsFile(header, source, bytes.byteLength, (b, e) => bytes.subarray(b, e), true);
}

/**
 * Every tensor of a file as a {@link Tensor}, keyed by name (as the Python `load_file`): views of
 * the mapping where the dtype allows, converted where `options.dtype` asks.
 *
 * @example
 * const weights = await loadFile("model.safetensors", { dtype: "float32" });
 */
export async function loadFile(path: string, options: ToTensorOptions = {}): Promise<Map<string, Tensor>> {
  return loadTensors(await safeOpen(path), options);
}
