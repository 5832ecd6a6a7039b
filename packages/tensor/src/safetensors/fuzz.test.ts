/**
 * Throws thousands of mutated files at the reader. Every outcome must be either a valid file whose
 * views stay inside their byte ranges, or a SafetensorsError with a known code: never another
 * exception, a crash or a hang. A seeded generator keeps runs reproducible.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { DTYPES, type SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsError, SafetensorsErrorCode } from "./errors.ts";
import { deserialize } from "./open.ts";
import { serialize, type TensorData } from "./serialize.ts";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = rng(20261126);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;

function baseFile(): Uint8Array {
  const tensors = new Map<string, TensorData>();
  const dtypes = Object.keys(DTYPES) as SafetensorsDtype[];
  for (let i = 0, n = 1 + int(5); i < n; i++) {
    const dtype = pick(dtypes);
    const shape = Array.from({ length: int(4) }, () => int(4));
    const bytes = shape.reduce((a, b) => a * b, DTYPES[dtype].size);
    tensors.set(`layer.${i}.${pick(["weight", "bias", "ü", 'a"b', "x\\y"])}`, {
      dtype,
      shape,
      data: new Uint8Array(bytes).map(() => int(256)),
    });
  }
  return serialize(tensors, random() < 0.5 ? { format: "pt", note: "fuzz" } : null);
}

const SPECIAL = [...'{}[]",:-.0123456789eE \\'].map((c) => c.charCodeAt(0));
const VALUES = [
  '"F32"',
  '"BOGUS"',
  "-1",
  "1.5",
  "1e400",
  "9007199254740993",
  "null",
  "[]",
  "{}",
  '"x"',
  "[0]",
  "[0,1,2]",
  "true",
];

function headerLength(bytes: Uint8Array): number {
  return Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
}

function withHeader(header: Uint8Array, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + header.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  out.set(data, 8 + header.byteLength);
  return out;
}

function mutate(input: Uint8Array): Uint8Array {
  const bytes = input.slice();
  if (bytes.byteLength < 8) return bytes;
  const n = Math.min(headerLength(bytes), bytes.byteLength - 8);
  const header = bytes.subarray(8, 8 + n);
  const data = bytes.subarray(8 + n);
  switch (int(8)) {
    case 0: // flip a bit in the header
      header[int(n)] ^= 1 << int(8);
      return bytes;
    case 1: // write a JSON-significant character
      header[int(n)] = pick(SPECIAL);
      return bytes;
    case 2: // truncate anywhere
      return bytes.subarray(0, int(bytes.byteLength));
    case 3: {
      // rewrite the length prefix
      const view = new DataView(bytes.buffer);
      const choice = int(4);
      const value =
        choice === 0
          ? BigInt(n + int(17) - 8)
          : choice === 1
            ? BigInt(int(2 ** 31))
            : choice === 2
              ? 2n ** 63n
              : BigInt(bytes.byteLength);
      view.setBigUint64(0, value < 0n ? 0n : value, true);
      return bytes;
    }
    case 4: {
      // delete or duplicate a slice of the header, keeping the prefix consistent
      const at = int(n);
      const len = 1 + int(Math.min(16, n - at));
      const text =
        int(2) === 0
          ? [...header.subarray(0, at), ...header.subarray(at + len)]
          : [...header.subarray(0, at + len), ...header.subarray(at)];
      return withHeader(new Uint8Array(text), data);
    }
    case 5: {
      // replace one JSON value (a number, string or array) with something else, prefix consistent
      const text = new TextDecoder().decode(header);
      const matches = [...text.matchAll(/-?\d+(\.\d+)?|"[^"\\]*"|\[[^\]]*\]/g)];
      if (matches.length === 0) return bytes;
      const m = pick(matches);
      const changed = text.slice(0, m.index) + pick(VALUES) + text.slice((m.index ?? 0) + m[0].length);
      return withHeader(new TextEncoder().encode(changed), data);
    }
    case 6: {
      // duplicate a whole tensor entry (duplicate key)
      const text = new TextDecoder().decode(header).trimEnd();
      const m = /"([^"\\]+)":\{"dtype"[^}]*\}/.exec(text);
      if (!m) return bytes;
      const changed = `${text.slice(0, -1)},${m[0]}}`;
      return withHeader(new TextEncoder().encode(changed), data);
    }
    default: {
      // grow or shrink the data section
      const delta = int(9) - 4;
      const size = Math.max(8 + n, bytes.byteLength + delta);
      const out = new Uint8Array(size);
      out.set(bytes.subarray(0, Math.min(size, bytes.byteLength)));
      return out;
    }
  }
}

test("fuzz: 20000 mutated files are read or rejected with a coded error, never crash", () => {
  const codes = new Set<string>(Object.values(SafetensorsErrorCode));
  const seen = new Map<string, number>();
  let accepted = 0;
  for (let i = 0; i < 20000; i++) {
    let bytes = baseFile();
    for (let k = 0, rounds = 1 + int(3); k < rounds; k++) bytes = mutate(bytes);
    try {
      const file = deserialize(bytes, "fuzz.safetensors");
      for (const name of file.keys()) {
        const raw = file.raw(name);
        const expected = raw.shape.reduce((a, b) => a * b, DTYPES[raw.dtype].size);
        assert.equal(raw.data.byteLength, expected);
        assert.ok(raw.data.byteOffset + raw.data.byteLength <= bytes.byteOffset + bytes.byteLength);
      }
      accepted++;
    } catch (error) {
      if (!(error instanceof SafetensorsError)) throw error;
      assert.ok(codes.has(error.code), error.code);
      assert.match(error.message, /fuzz\.safetensors/);
      seen.set(error.code, (seen.get(error.code) ?? 0) + 1);
    }
  }
  // The mutations must reach every check, not stop at the first one.
  for (const code of [
    "TRUNCATED",
    "HEADER_LENGTH",
    "HEADER_NOT_UTF8",
    "HEADER_NOT_JSON",
    "DUPLICATE_KEY",
    "BAD_ENTRY",
    "UNKNOWN_DTYPE",
    "OFFSETS_OVERLAP",
    "OFFSETS_GAP",
    "SIZE_MISMATCH",
  ] as const) {
    assert.ok(
      (seen.get(SafetensorsErrorCode[code]) ?? 0) > 0,
      `no mutation produced ${code}: ${JSON.stringify([...seen])}`,
    );
  }
  if (process.env.FUZZ_STATS) console.log(accepted, seen);
  assert.ok(accepted > 0, "some mutations should leave a valid file");
});
