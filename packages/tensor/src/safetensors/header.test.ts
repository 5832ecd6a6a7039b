import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { SafetensorsErrorCode as Code, SafetensorsError, type SafetensorsErrorCodeValue } from "./errors.ts";
import { parseHeader } from "./header.ts";
import { deserialize } from "./open.ts";

/** A file from a header text (padded or not) and `data` bytes; `length` overrides the prefix. */
function file(header: string | Uint8Array, data = 0, length?: bigint): Uint8Array {
  const json = typeof header === "string" ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.byteLength + data);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  for (let i = 0; i < data; i++) out[8 + json.byteLength + i] = i & 0xff;
  return out;
}

function rejects(bytes: Uint8Array, code: SafetensorsErrorCodeValue, message: RegExp): void {
  assert.throws(
    () => parseHeader(bytes, "bad.safetensors"),
    (error: unknown) => {
      assert.ok(error instanceof SafetensorsError, `expected a SafetensorsError, got ${error}`);
      assert.equal(error.code, code, error.message);
      assert.match(error.message, /bad\.safetensors/);
      assert.match(error.message, message);
      return true;
    },
  );
}

const entry = (dtype: string, shape: number[], begin: number, end: number) =>
  `{"dtype":"${dtype}","shape":[${shape.join(",")}],"data_offsets":[${begin},${end}]}`;

describe("safetensors header: valid files", () => {
  test("parses tensors in offset order, metadata, and the data start", () => {
    const text = `{"b":${entry("F32", [2], 8, 16)},"__metadata__":{"format":"pt"},"a":${entry("I64", [1], 0, 8)}}`;
    const h = parseHeader(file(text, 16), "ok");
    assert.deepEqual([...h.tensors.keys()], ["a", "b"]);
    assert.deepEqual(h.tensors.get("b"), { dtype: "F32", shape: [2], dataOffsets: [8, 16] });
    assert.deepEqual(h.metadata, { format: "pt" });
    assert.equal(h.dataStart, 8 + text.length);
  });

  test("accepts an empty file ({}), scalars, zero-size tensors and a null __metadata__", () => {
    assert.equal(parseHeader(file("{}      "), "ok").tensors.size, 0);
    const h = parseHeader(
      file(
        `{"__metadata__":null,"s":${entry("F64", [], 0, 8)},"z":${entry("F32", [0, 3], 8, 8)},"y":${entry("U8", [4, 0], 8, 8)}}`,
        8,
      ),
      "ok",
    );
    assert.equal(h.metadata, null);
    assert.deepEqual(h.tensors.get("s")?.shape, []);
    assert.equal(h.tensors.size, 3);
  });

  test("views never reach outside the tensor's byte range", () => {
    const f = deserialize(file(`{"a":${entry("U8", [3], 0, 3)},"b":${entry("U8", [2], 3, 5)}}`, 5));
    assert.deepEqual([...f.raw("a").data], [0, 1, 2]);
    assert.deepEqual([...f.raw("b").data], [3, 4]);
  });
});

describe("safetensors header: one clear error per kind of bad file", () => {
  test("fewer than 8 bytes: truncated", () => {
    rejects(new Uint8Array(5), Code.TRUNCATED, /5 bytes/);
  });

  test("header length larger than the file", () => {
    rejects(file("{}", 0, 4096n), Code.HEADER_LENGTH, /4096 bytes but only 2/);
  });

  test("header length above the 100 MB limit, and absurd u64 lengths", () => {
    rejects(file("{}", 0, 200_000_000n), Code.HEADER_LENGTH, /limit/);
    rejects(file("{}", 0, 0xffff_ffff_ffff_ffffn), Code.HEADER_LENGTH, /18446744073709551615/);
  });

  test("header length too small for JSON", () => {
    rejects(file("{}", 0, 0n), Code.HEADER_LENGTH, /0 bytes/);
  });

  test("non-UTF-8 header", () => {
    rejects(file(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), Code.HEADER_NOT_UTF8, /UTF-8/);
  });

  test("non-JSON header, and JSON that is not an object", () => {
    rejects(file('{"a": '), Code.HEADER_NOT_JSON, /not valid JSON/);
    rejects(file("[1,2]   "), Code.HEADER_NOT_JSON, /an array/);
    rejects(file("12345678"), Code.HEADER_NOT_JSON, /number/);
  });

  test("duplicate tensor names, and duplicate fields inside an entry", () => {
    rejects(file(`{"a":${entry("U8", [1], 0, 1)},"a":${entry("U8", [1], 0, 1)}}`, 1), Code.DUPLICATE_KEY, /'a' twice/);
    rejects(
      file(`{"a\\u0062":${entry("U8", [1], 0, 1)},"ab":${entry("U8", [1], 1, 2)}}`, 2),
      Code.DUPLICATE_KEY,
      /'ab'/,
    );
    rejects(
      file(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1),
      Code.DUPLICATE_KEY,
      /key 'dtype' in entry 'a'/,
    );
  });

  test("unknown dtype names the accepted ones", () => {
    rejects(file(`{"a":${entry("F128", [1], 0, 16)}}`, 16), Code.UNKNOWN_DTYPE, /"F128".*F32/);
  });

  test("malformed entries", () => {
    rejects(file(`{"a":[1,2]}`), Code.BAD_ENTRY, /'a'.*array/);
    rejects(file(`{"a":{"shape":[1],"data_offsets":[0,1]}}`, 1), Code.BAD_ENTRY, /'dtype'/);
    rejects(file(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}}`, 1), Code.BAD_ENTRY, /non-negative integers/);
    rejects(file(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, 1), Code.BAD_ENTRY, /1\.5/);
    rejects(file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0]}}`, 1), Code.BAD_ENTRY, /\[begin, end\]/);
    rejects(file(`{"a":{"dtype":"U8","shape":"1","data_offsets":[0,1]}}`, 1), Code.BAD_ENTRY, /'shape'/);
  });

  test("metadata that is not a string map", () => {
    rejects(file(`{"__metadata__":{"step":1}}`), Code.BAD_METADATA, /'step' is number/);
    rejects(file(`{"__metadata__":[]}`), Code.BAD_METADATA, /array/);
  });

  test("overlapping offsets name both tensors; reversed offsets", () => {
    rejects(
      file(`{"a":${entry("U8", [4], 0, 4)},"b":${entry("U8", [4], 2, 6)}}`, 6),
      Code.OFFSETS_OVERLAP,
      /'b'.*overlapping tensor 'a'/,
    );
    rejects(file(`{"a":${entry("U8", [0], 4, 0)}}`, 4), Code.OFFSETS_OVERLAP, /end before they begin/);
  });

  test("gaps: not starting at 0, holes, and bytes after the last tensor", () => {
    rejects(file(`{"a":${entry("U8", [4], 2, 6)}}`, 6), Code.OFFSETS_GAP, /starts at data offset 2/);
    rejects(
      file(`{"a":${entry("U8", [2], 0, 2)},"b":${entry("U8", [2], 4, 6)}}`, 6),
      Code.OFFSETS_GAP,
      /'a' ends at 2/,
    );
    rejects(file(`{"a":${entry("U8", [2], 0, 2)}}`, 5), Code.OFFSETS_GAP, /3 bytes after the last tensor/);
  });

  test("offsets and sizes beyond 2^53", () => {
    rejects(file(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1e300]}}`), Code.OFFSETS_OUT_OF_RANGE, /2\^53/);
    rejects(file(`{"a":${entry("F64", [2 ** 30, 2 ** 30, 2 ** 30], 0, 8)}}`, 8), Code.OFFSETS_OUT_OF_RANGE, /2\^53/);
  });

  test("shape × dtype that does not match the byte range", () => {
    rejects(file(`{"a":${entry("F32", [3], 0, 8)}}`, 8), Code.SIZE_MISMATCH, /F32 with shape \[3\], 12 bytes.*span 8/);
  });

  test("truncated data section gives the expected and actual sizes", () => {
    const whole = file(`{"a":${entry("F32", [4], 0, 16)}}`, 16);
    rejects(whole.subarray(0, whole.byteLength - 3), Code.TRUNCATED, /16 bytes of tensor data but only 13/);
  });
});
