import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { DTYPES, type SafetensorsDtype } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, SafetensorsError } from "./errors.ts";
import { deserialize, safeOpen } from "./open.ts";
import { saveFile, serialize, type TensorData } from "./serialize.ts";

const dir = mkdtempSync(join(tmpdir(), "hearth-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const fixtures = new URL("../../../../fixtures/hf-tiny/", import.meta.url);
const FIXTURE_FILES = [
  "models/gpt2/model.safetensors",
  "models/llama/model.safetensors",
  "models/bert/model.safetensors",
  "models/bert-seqcls/model.safetensors",
  "models/vit/model.safetensors",
  "models/whisper/model.safetensors",
  "models/gpt2-lora/adapter_model.safetensors",
  "models/llama-lora/adapter_model.safetensors",
];

function bytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("safetensors writer: the reference layout, byte for byte", () => {
  test("re-serialising every hf-tiny model and adapter reproduces the file exactly", () => {
    for (const name of FIXTURE_FILES) {
      const original = readFileSync(new URL(name, fixtures));
      const file = deserialize(new Uint8Array(original.buffer, original.byteOffset, original.byteLength), name);
      const tensors = new Map(file.keys().map((key) => [key, file.raw(key)]));
      const again = serialize(tensors, file.metadata);
      assert.ok(Buffer.from(again).equals(original), `${name} differs after a round trip through the writer`);
    }
  });

  test("matches the reference writer's own test vectors (one F32 tensor; empty file with and without metadata)", () => {
    const data = new Float32Array([0, 1, 2, 3, 4, 5]);
    const one = serialize({ "attn.0": { dtype: "F32", shape: [1, 2, 3], data } });
    const json = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    assert.equal(json.length, 64);
    assert.deepEqual([...one.subarray(0, 8)], [64, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(text(one.subarray(8, 72)), json);
    assert.deepEqual(new Float32Array(one.slice(72).buffer), data);

    // 65 bytes of JSON are padded with 7 spaces to 72, so the data starts 8-byte aligned.
    const padded = serialize({ attn0: { dtype: "F32", shape: [1, 1, 2, 3], data } });
    assert.equal(padded[0], 72);
    assert.equal(
      text(padded.subarray(8, 80)),
      `${'{"attn0":{"dtype":"F32","shape":[1,1,2,3],"data_offsets":[0,24]}}'}       `,
    );

    assert.deepEqual([...serialize({})], [8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const withMeta = serialize({}, { framework: "pt" });
    assert.equal(withMeta[0], 40);
    assert.equal(text(withMeta.subarray(8)), '{"__metadata__":{"framework":"pt"}}     ');
  });

  test("orders tensors by dtype alignment (reference enum order, descending), then by name", () => {
    const t = (dtype: SafetensorsDtype): TensorData => ({
      dtype,
      shape: [1],
      data: new Uint8Array(DTYPES[dtype].size),
    });
    const file = deserialize(
      serialize(
        new Map([
          ["b", t("U8")],
          ["a", t("BOOL")],
          ["z", t("F16")],
          ["y", t("BF16")],
          ["c", t("F32")],
          ["d", t("I64")],
          ["e", t("F64")],
          ["f", t("U64")],
          ["g", t("I32")],
          ["h", t("F8_E4M3")],
          ["i", t("F8_E5M2")],
          ["B", t("F32")],
          ["é", t("F32")],
          ["ā", t("F32")],
        ]),
      ),
    );
    assert.deepEqual(file.keysInFileOrder(), ["f", "d", "e", "B", "c", "é", "ā", "g", "y", "z", "h", "i", "b", "a"]);
  });

  test("escapes names as JSON and sorts them by UTF-8 bytes, not UTF-16 units", () => {
    const t: TensorData = { dtype: "U8", shape: [1], data: new Uint8Array(1) };
    const names = ['quote"d', "back\\slash", "new\nline", "\u{1F600}", "\uFB01"];
    const file = deserialize(serialize(new Map(names.map((n) => [n, t]))));
    // U+FB01 sorts before U+1F600 in UTF-8 (EF AC 81 < F0 9F 98 80) though not in UTF-16 (FB01 > D83D).
    assert.deepEqual(file.keysInFileOrder(), ["back\\slash", "new\nline", 'quote"d', "\uFB01", "\u{1F600}"]);
  });

  test("round trip of every dtype, including scalars and zero-size tensors", async () => {
    const tensors = new Map<string, TensorData>();
    let seed = 1;
    for (const dtype of Object.keys(DTYPES) as SafetensorsDtype[]) {
      for (const shape of [[], [0], [3, 0, 2], [5], [2, 3, 4]]) {
        const n = shape.reduce((a, b) => a * b, 1);
        tensors.set(`${dtype}.${shape.join("x")}`, { dtype, shape, data: bytesOf(n * DTYPES[dtype].size, seed++) });
      }
    }
    const path = join(dir, "all-dtypes.safetensors");
    await saveFile(tensors, path, { format: "pt", note: "ünïcode" });
    const file = await safeOpen(path);
    assert.deepEqual(file.metadata, { format: "pt", note: "ünïcode" });
    assert.equal(file.keys().length, tensors.size);
    for (const [name, t] of tensors) {
      const raw = file.raw(name);
      assert.equal(raw.dtype, t.dtype);
      assert.deepEqual(raw.shape, t.shape);
      assert.deepEqual(raw.data, t.data, name);
      // Every tensor is aligned to its element size in the file, so typed views need no copy.
      assert.equal(raw.data.byteOffset % DTYPES[raw.dtype].size, 0, name);
    }
    assert.ok(Buffer.from(serialize(tensors, { format: "pt", note: "ünïcode" })).equals(readFileSync(path)));
  });

  test("accepts any typed array view as data, including a sub-view of a larger buffer", () => {
    const big = new Float32Array([9, 1, 2, 3, 9]);
    const file = deserialize(serialize({ w: { dtype: "F32", shape: [3], data: big.subarray(1, 4) } }));
    assert.deepEqual([...new Float32Array(file.raw("w").data.slice().buffer)], [1, 2, 3]);
  });
});

describe("safetensors writer: bad input and atomic writes", () => {
  const rejects = (fn: () => unknown, message: RegExp) =>
    assert.throws(
      fn,
      (e: unknown) => e instanceof SafetensorsError && e.code === Code.BAD_INPUT && message.test(e.message),
    );

  test("rejects data of the wrong length, unknown dtypes, bad shapes, reserved names and non-string metadata", () => {
    rejects(() => serialize({ w: { dtype: "F32", shape: [2], data: new Float32Array(3) } }), /needs 8 bytes.*has 12/);
    rejects(() => serialize({ w: { dtype: "F12" as SafetensorsDtype, shape: [1], data: new Uint8Array(1) } }), /"F12"/);
    rejects(() => serialize({ w: { dtype: "U8", shape: [-1], data: new Uint8Array(1) } }), /non-negative/);
    rejects(() => serialize({ __metadata__: { dtype: "U8", shape: [1], data: new Uint8Array(1) } }), /reserved/);
    rejects(() => serialize({}, { step: 3 } as unknown as Record<string, string>), /'step' must be a string/);
  });

  test("a failed write leaves the previous file intact and no temporary file behind", async () => {
    const path = join(dir, "keep.safetensors");
    writeFileSync(path, "previous contents");
    await assert.rejects(
      saveFile({ w: { dtype: "F32", shape: [2], data: new Float32Array(1) } }, path),
      (e: unknown) => e instanceof SafetensorsError && e.code === Code.BAD_INPUT,
    );
    assert.equal(readFileSync(path, "utf8"), "previous contents");
    await assert.rejects(
      saveFile({}, join(dir, "no-such-folder", "x.safetensors")),
      (e: unknown) => e instanceof SafetensorsError && e.code === Code.IO && /no-such-folder/.test(e.message),
    );
    await saveFile({ w: { dtype: "U8", shape: [1], data: new Uint8Array([7]) } }, path);
    assert.deepEqual([...(await safeOpen(path)).raw("w").data], [7]);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.endsWith(".tmp")),
      [],
    );
  });
});
