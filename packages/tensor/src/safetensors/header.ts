/**
 * Parsing and validation of a safetensors header.
 *
 * Layout (https://github.com/huggingface/safetensors, "Format"):
 *   bytes 0..8      N, the header length, unsigned 64-bit little-endian
 *   bytes 8..8+N    UTF-8 JSON object: {"__metadata__"?: {string: string},
 *                   name: {"dtype": D, "shape": [..], "data_offsets": [begin, end]}, ...}
 *   bytes 8+N..     the data section; offsets are relative to its start
 *
 * The checks follow the reference reader (which rejects the same files) and add the ones it leaves
 * to serde: duplicate keys are an error rather than "last one wins". Every failure is a
 * {@link SafetensorsError} with its own code.
 */
import { DTYPES, isSafetensorsDtype, type SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail } from "./errors.ts";

/** The reference reader refuses headers above 100 MB; so do we (a bad length must not allocate). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Where one tensor lives in a file. */
export interface TensorInfo {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A validated header. */
export interface SafetensorsHeader {
  /** The `__metadata__` string map, or `null` when the file has none. */
  metadata: Record<string, string> | null;
  /** Every tensor, in data-offset order. */
  tensors: Map<string, TensorInfo>;
  /** Byte offset of the data section in the file: 8 + the header length. */
  dataStart: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses and validates the header of a complete safetensors file held in `file` (typically the
 * file's mapping). `source` names the file in error messages.
 *
 * @example
 * const header = parseHeader(new Uint8Array(mapFile("model.safetensors")), "model.safetensors");
 * header.tensors.get("lm_head.weight"); // { dtype: "F32", shape: [1000, 64], dataOffsets: [0, 256000] }
 */
export function parseHeader(file: Uint8Array, source: string): SafetensorsHeader {
  if (file.byteLength < 8) {
    fail(
      Code.TRUNCATED,
      `safetensors: ${source} has ${file.byteLength} bytes; a safetensors file starts with an 8-byte header length`,
    );
  }
  const view = new DataView(file.buffer, file.byteOffset, 8);
  const declared = view.getBigUint64(0, true);
  const available = file.byteLength - 8;
  if (declared > BigInt(MAX_HEADER_BYTES)) {
    fail(
      Code.HEADER_LENGTH,
      `safetensors: ${source} declares a header of ${declared} bytes, above the ${MAX_HEADER_BYTES}-byte limit ` +
        `(the file has ${file.byteLength} bytes); the file is not safetensors or is corrupt`,
    );
  }
  const n = Number(declared);
  if (n > available) {
    fail(
      Code.HEADER_LENGTH,
      `safetensors: ${source} declares a header of ${n} bytes but only ${available} bytes follow the length ` +
        "prefix; the file is truncated or not safetensors",
    );
  }
  if (n < 2) {
    fail(Code.HEADER_LENGTH, `safetensors: ${source} declares a header of ${n} bytes; the smallest header, {}, has 2`);
  }
  let text: string;
  try {
    text = utf8.decode(file.subarray(8, 8 + n));
  } catch (error) {
    return fail(Code.HEADER_NOT_UTF8, `safetensors: the ${n}-byte header of ${source} is not valid UTF-8`, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(
      Code.HEADER_NOT_JSON,
      `safetensors: the header of ${source} is not valid JSON (${(error as Error).message})`,
      error,
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    fail(
      Code.HEADER_NOT_JSON,
      `safetensors: the header of ${source} must be a JSON object, got ${Array.isArray(json) ? "an array" : typeof json}`,
    );
  }
  checkDuplicateKeys(text, source);
  return validateEntries(json as Record<string, unknown>, file.byteLength, 8 + n, source);
}

function validateEntries(
  json: Record<string, unknown>,
  fileSize: number,
  dataStart: number,
  source: string,
): SafetensorsHeader {
  let metadata: Record<string, string> | null = null;
  const entries: [string, TensorInfo, number][] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === "__metadata__") {
      metadata = validateMetadata(value, source);
      continue;
    }
    const info = validateEntry(name, value, source);
    entries.push([name, info, byteCount(name, info, source)]);
  }
  entries.sort((a, b) => a[1].dataOffsets[0] - b[1].dataOffsets[0] || a[1].dataOffsets[1] - b[1].dataOffsets[1]);

  let expected = 0;
  let previous: string | null = null;
  for (const [name, info, nbytes] of entries) {
    const [begin, end] = info.dataOffsets;
    if (end < begin) {
      fail(
        Code.OFFSETS_OVERLAP,
        `safetensors: tensor '${name}' in ${source} has data_offsets [${begin}, ${end}], which end before they begin`,
      );
    }
    if (begin < expected) {
      fail(
        Code.OFFSETS_OVERLAP,
        `safetensors: tensor '${name}' in ${source} has data_offsets [${begin}, ${end}], overlapping tensor '${previous}' which ends at ${expected}`,
      );
    }
    if (begin > expected) {
      fail(
        Code.OFFSETS_GAP,
        `safetensors: tensor '${name}' in ${source} starts at data offset ${begin} but ${previous === null ? "the data section starts at 0" : `tensor '${previous}' ends at ${expected}`}; tensors must cover the data section without gaps`,
      );
    }
    if (end - begin !== nbytes) {
      fail(
        Code.SIZE_MISMATCH,
        `safetensors: tensor '${name}' in ${source} is ${info.dtype} with shape [${info.shape.join(", ")}], ${nbytes} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}`,
      );
    }
    expected = end;
    previous = name;
  }
  const dataBytes = fileSize - dataStart;
  if (expected > dataBytes) {
    fail(
      Code.TRUNCATED,
      `safetensors: ${source} is truncated: its header describes ${expected} bytes of tensor data but only ${dataBytes} follow the header (expected a file of ${dataStart + expected} bytes, got ${fileSize})`,
    );
  }
  if (expected < dataBytes) {
    fail(
      Code.OFFSETS_GAP,
      `safetensors: ${source} has ${dataBytes - expected} bytes after the last tensor (its header describes ${expected} bytes of data, the file holds ${dataBytes}); tensors must cover the data section exactly`,
    );
  }
  return { metadata, tensors: new Map(entries.map(([name, info]) => [name, info])), dataStart };
}

function validateMetadata(value: unknown, source: string): Record<string, string> | null {
  if (value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) {
    fail(
      Code.BAD_METADATA,
      `safetensors: __metadata__ in ${source} must be an object of strings, got ${describe(value)}`,
    );
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== "string") {
      fail(
        Code.BAD_METADATA,
        `safetensors: __metadata__ in ${source} must map names to strings, but '${key}' is ${describe(v)}`,
      );
    }
  }
  return { ...(value as Record<string, string>) };
}

function validateEntry(name: string, value: unknown, source: string): TensorInfo {
  const where = `safetensors: tensor '${name}' in ${source}`;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    fail(Code.BAD_ENTRY, `${where} must be an object {dtype, shape, data_offsets}, got ${describe(value)}`);
  }
  const entry = value as Record<string, unknown>;
  const { dtype, shape, data_offsets: offsets } = entry;
  if (typeof dtype !== "string") fail(Code.BAD_ENTRY, `${where} needs a string 'dtype', got ${describe(dtype)}`);
  if (!isSafetensorsDtype(dtype)) {
    fail(
      Code.UNKNOWN_DTYPE,
      `${where} has dtype ${JSON.stringify(dtype)}, which is not one of ${Object.keys(DTYPES).join(", ")}`,
    );
  }
  if (!Array.isArray(shape)) fail(Code.BAD_ENTRY, `${where} needs an array 'shape', got ${describe(shape)}`);
  for (const dim of shape) checkIndex(dim, `${where}: shape [${shape.join(", ")}]`);
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    fail(Code.BAD_ENTRY, `${where} needs 'data_offsets' as [begin, end], got ${describe(offsets)}`);
  }
  for (const offset of offsets) checkIndex(offset, `${where}: data_offsets [${offsets.join(", ")}]`);
  return { dtype, shape: shape as number[], dataOffsets: [offsets[0] as number, offsets[1] as number] };
}

/** A dimension or offset: a non-negative integer a double holds exactly. */
function checkIndex(value: unknown, where: string): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    fail(Code.BAD_ENTRY, `${where} must hold non-negative integers, got ${describe(value)}`);
  }
  if (value > Number.MAX_SAFE_INTEGER) {
    fail(Code.OFFSETS_OUT_OF_RANGE, `${where} holds ${value}, above 2^53 - 1`);
  }
}

function byteCount(name: string, info: TensorInfo, source: string): number {
  let count = DTYPES[info.dtype].size;
  for (const dim of info.shape) count *= dim;
  if (count > Number.MAX_SAFE_INTEGER) {
    fail(
      Code.OFFSETS_OUT_OF_RANGE,
      `safetensors: tensor '${name}' in ${source} has shape [${info.shape.join(", ")}] of ${info.dtype}, more than 2^53 - 1 bytes`,
    );
  }
  return count;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array ${truncate(JSON.stringify(value))}`;
  if (typeof value === "object") return "an object";
  if (value === undefined) return "nothing";
  return `${typeof value} ${truncate(JSON.stringify(value))}`;
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * Rejects an object (at any depth) that names a key twice: `JSON.parse` would silently keep the
 * last, hiding a tensor. `text` is known to be valid JSON, so a structural scan suffices: a string
 * directly after `{` or `,` inside an object is a key.
 */
function checkDuplicateKeys(text: string, source: string): void {
  interface Frame {
    keys: Set<string> | null; // null for arrays
    name: string | null; // the key this object sits under in its parent
  }
  const stack: Frame[] = [];
  let expectKey = false;
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let j = i + 1;
      let escaped = false;
      for (; j < text.length; j++) {
        const d = text.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          escaped = true;
          j++;
        } else if (d === 0x22) break;
      }
      const frame = stack[stack.length - 1];
      if (expectKey && frame?.keys) {
        const raw = text.slice(i, j + 1);
        const key = escaped ? (JSON.parse(raw) as string) : raw.slice(1, -1);
        if (frame.keys.has(key)) {
          const where = stack.length === 1 ? `tensor name '${key}'` : `key '${key}' in entry '${frame.name ?? "?"}'`;
          fail(Code.DUPLICATE_KEY, `safetensors: the header of ${source} names ${where} twice`);
        }
        frame.keys.add(key);
        lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), name: lastKey });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push({ keys: null, name: lastKey });
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
}
