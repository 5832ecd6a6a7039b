/**
 * Writing safetensors files laid out exactly as the reference (Rust) writer lays them out, so a
 * file written here and one written by Python's `safetensors.torch.save_file` are byte-identical:
 *
 * - tensors sorted by dtype alignment, largest first (the reference `Dtype` enum order,
 *   descending), then by name (byte order);
 * - data offsets contiguous from 0 in that order;
 * - header: compact JSON, `__metadata__` first (when given), then each tensor as
 *   `{"dtype":..,"shape":[..],"data_offsets":[b,e]}`, padded with spaces to a multiple of 8 bytes so
 *   that the data section (and so every tensor) is 8-byte aligned.
 *
 * Files are written to a temporary name in the same folder and renamed into place, so a crash
 * leaves either the old file or the new one, never half of one.
 */

import { writeFileAtomic } from "./atomic.ts";
import { DTYPES, isSafetensorsDtype, type SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail } from "./errors.ts";
import { compareNames } from "./open.ts";

/** A tensor to write: dtype, shape, and its little-endian, C-contiguous bytes. */
export interface TensorData {
  dtype: SafetensorsDtype;
  shape: readonly number[];
  data: ArrayBufferView;
}

/** Tensors to write, by name: a `Map` (any order) or a plain object. */
export type TensorMap = ReadonlyMap<string, TensorData> | Readonly<Record<string, TensorData>>;

/** A laid-out file: header bytes (with the length prefix) and the tensors in data order. */
export interface PreparedFile {
  /** The 8-byte length followed by the padded JSON header. */
  head: Uint8Array;
  /** Tensors in the order their bytes follow the header. */
  order: [string, Uint8Array][];
  /** Total bytes of the file. */
  size: number;
}

function entriesOf(tensors: TensorMap): [string, TensorData][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, TensorData>);
}

function bytesOf(name: string, t: TensorData, fn: string): Uint8Array {
  if (!t || typeof t !== "object") fail(Code.BAD_INPUT, `${fn}: tensor '${name}' must be {dtype, shape, data}`);
  if (!isSafetensorsDtype(t.dtype)) {
    fail(
      Code.BAD_INPUT,
      `${fn}: tensor '${name}' has dtype ${JSON.stringify(t.dtype)}, expected one of ${Object.keys(DTYPES).join(", ")}`,
    );
  }
  if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    fail(
      Code.BAD_INPUT,
      `${fn}: tensor '${name}' needs a shape of non-negative integers, got ${JSON.stringify(t.shape)}`,
    );
  }
  if (!ArrayBuffer.isView(t.data)) {
    fail(Code.BAD_INPUT, `${fn}: tensor '${name}' needs 'data' as a typed array or Buffer`);
  }
  const expected = t.shape.reduce((a, b) => a * b, DTYPES[t.dtype].size);
  if (t.data.byteLength !== expected) {
    fail(
      Code.BAD_INPUT,
      `${fn}: tensor '${name}' is ${t.dtype} with shape [${t.shape.join(", ")}], which needs ${expected} bytes, but its data has ${t.data.byteLength}`,
    );
  }
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

/**
 * Lays out a file: validates the tensors and metadata, orders the tensors as the reference writer
 * does and builds the padded header. `fn` names the caller in error messages.
 */
export function prepare(
  tensors: TensorMap,
  metadata: Readonly<Record<string, string>> | null | undefined,
  fn = "serialize",
): PreparedFile {
  const items = entriesOf(tensors).map(([name, t]) => {
    if (name === "__metadata__") fail(Code.BAD_INPUT, `${fn}: '__metadata__' is reserved and cannot name a tensor`);
    return { name, dtype: t?.dtype, shape: [...(t?.shape ?? [])], bytes: bytesOf(name, t, fn) };
  });
  items.sort((a, b) => DTYPES[b.dtype].rank - DTYPES[a.dtype].rank || compareNames(a.name, b.name));

  const parts: string[] = [];
  if (metadata != null) {
    if (typeof metadata !== "object" || Array.isArray(metadata)) {
      fail(Code.BAD_INPUT, `${fn}: metadata must be an object of strings, got ${typeof metadata}`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== "string") {
        fail(
          Code.BAD_INPUT,
          `${fn}: metadata '${key}' must be a string (safetensors metadata is string → string), got ${typeof value}`,
        );
      }
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const item of items) {
    const end = offset + item.bytes.byteLength;
    parts.push(
      `${JSON.stringify(item.name)}:{"dtype":"${item.dtype}","shape":[${item.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const padded = Math.ceil(json.byteLength / 8) * 8;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return { head, order: items.map((item) => [item.name, item.bytes]), size: head.byteLength + offset };
}

/**
 * The bytes of a safetensors file holding `tensors` (as the Python `safetensors.torch.save`).
 *
 * @example
 * const bytes = serialize({ w: { dtype: "F32", shape: [2], data: new Float32Array([1, 2]) } }, { format: "pt" });
 */
export function serialize(tensors: TensorMap, metadata?: Readonly<Record<string, string>> | null): Uint8Array {
  const { head, order, size } = prepare(tensors, metadata);
  const out = new Uint8Array(size);
  out.set(head, 0);
  let at = head.byteLength;
  for (const [, bytes] of order) {
    out.set(bytes, at);
    at += bytes.byteLength;
  }
  return out;
}

/** Writes of at most this many bytes at a time (the kernel caps one write at about 2 GiB). */
const CHUNK = 64 * 1024 * 1024;

/**
 * Writes `tensors` to `path` as a safetensors file, atomically (temporary file + rename), with
 * `metadata` as `__metadata__`. The layout is the reference writer's, byte for byte.
 *
 * @example
 * await saveFile({ w: { dtype: "F32", shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) } }, "w.safetensors", { format: "pt" });
 */
export async function saveFile(
  tensors: TensorMap,
  path: string,
  metadata?: Readonly<Record<string, string>> | null,
): Promise<void> {
  const { head, order } = prepare(tensors, metadata, "saveFile");
  await writeFileAtomic(path, async (handle) => {
    await handle.write(head);
    for (const [, bytes] of order) {
      for (let at = 0; at < bytes.byteLength; at += CHUNK) {
        await handle.write(bytes.subarray(at, Math.min(at + CHUNK, bytes.byteLength)));
      }
    }
  });
}
