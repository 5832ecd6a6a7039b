/**
 * Lazy, zero-copy reading of one safetensors file: the file is mapped private copy-on-write, the
 * header parsed once, and each tensor handed out as a view over the mapping. Nothing is read from
 * disk until a tensor's bytes are touched (page faults, not copies).
 */
import { mapFile } from "../native/index.ts";
import { DTYPES, type SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail, SafetensorsError } from "./errors.ts";
import { parseHeader, type SafetensorsHeader, type TensorInfo } from "./header.ts";

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

/**
 * One safetensors file, opened lazily. Obtain it with {@link safeOpen} or {@link deserialize}.
 */
export class SafetensorsFile implements TensorSource {
  /** Where the file came from (a path, or `<bytes>`). */
  readonly source: string;
  /** The `__metadata__` string map, or `null`. */
  readonly metadata: Record<string, string> | null;
  readonly #bytes: Uint8Array;
  readonly #header: SafetensorsHeader;

  /** Validates `bytes` (a whole file) and indexes it; prefer {@link safeOpen}. */
  constructor(bytes: Uint8Array, source: string) {
    this.#bytes = bytes;
    this.#header = parseHeader(bytes, source);
    this.source = source;
    this.metadata = this.#header.metadata;
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
    return { dtype: info.dtype, shape: info.shape, data: this.#bytes.subarray(begin, end) };
  }

  /** Bytes of tensor data in the file. */
  get dataBytes(): number {
    return this.#bytes.byteLength - this.#header.dataStart;
  }

  /** Number of elements of every tensor together. */
  get numElements(): number {
    let total = 0;
    for (const info of this.#header.tensors.values()) total += info.shape.reduce((a, b) => a * b, 1);
    return total;
  }
}

/**
 * Maps `path` and validates its header; tensors are read on demand. The mapping is private
 * copy-on-write, so writing into a returned view never reaches the file, and it is released when
 * the file object and every view over it have been collected.
 *
 * @example
 * const f = await safeOpen("model.safetensors");
 * console.log(f.keys(), f.metadata);
 * const wte = f.raw("transformer.wte.weight"); // { dtype: "F32", shape: [1000, 64], data: Uint8Array }
 */
export async function safeOpen(path: string): Promise<SafetensorsFile> {
  return safeOpenSync(path);
}

/** Synchronous {@link safeOpen}. */
export function safeOpenSync(path: string): SafetensorsFile {
  let buffer: ArrayBuffer;
  try {
    buffer = mapFile(path);
  } catch (error) {
    return fail(Code.IO, `safetensors: cannot open ${path}: ${(error as Error).message}`, error);
  }
  return new SafetensorsFile(new Uint8Array(buffer), path);
}

/**
 * Parses a safetensors file already in memory (as the Python `safetensors.deserialize`/`load`).
 * Tensors view `bytes`; nothing is copied.
 */
export function deserialize(bytes: Uint8Array, source = "<bytes>"): SafetensorsFile {
  return new SafetensorsFile(bytes, source);
}

/** Every tensor of a file, as zero-copy raw views keyed by name (in file order). */
export async function loadFileRaw(path: string): Promise<Map<string, RawTensor>> {
  const file = await safeOpen(path);
  return new Map(file.keysInFileOrder().map((name) => [name, file.raw(name)]));
}

/** Bytes per element of `dtype`. */
export function dtypeSize(dtype: SafetensorsDtype): number {
  return DTYPES[dtype].size;
}

/** Re-throws anything that is not already a {@link SafetensorsError} as one with code IO. */
export function asIoError(error: unknown, what: string): never {
  if (error instanceof SafetensorsError) throw error;
  return fail(Code.IO, `safetensors: ${what}: ${(error as Error).message}`, error);
}
