/** SentencePiece on small hand-written models: BPE merges by piece score, user-defined pieces, byte fallback. */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AutoTokenizer } from "../auto.ts";
import { parseModelProto } from "./proto.ts";

// A minimal protobuf writer for ModelProto (field numbers from sentencepiece_model.proto).
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
const field = (num: number, wire: number) => varint(num * 8 + wire);
const bytesField = (num: number, data: number[]) => [...field(num, 2), ...varint(data.length), ...data];
const str = (s: string) => [...new TextEncoder().encode(s)];
function f32(x: number): number[] {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [...b];
}

type P = [string, number, number]; // piece, score, type (1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte)
function modelProto(pieces: P[], modelType: number, byteFallback: boolean): Uint8Array {
  const out: number[] = [];
  for (const [piece, score, type] of pieces) {
    out.push(
      ...bytesField(1, [...bytesField(1, str(piece)), ...field(2, 5), ...f32(score), ...field(3, 0), ...varint(type)]),
    );
  }
  out.push(...bytesField(2, [...field(3, 0), ...varint(modelType), ...field(35, 0), byteFallback ? 1 : 0]));
  out.push(
    ...bytesField(3, [...bytesField(1, str("identity")), ...field(3, 0), 1, ...field(4, 0), 0, ...field(5, 0), 1]),
  );
  return new Uint8Array(out);
}

const base: P[] = [
  ["<unk>", 0, 2],
  ["<s>", 0, 3],
  ["</s>", 0, 3],
];

async function load(pieces: P[], modelType: number, byteFallback = false) {
  const dir = mkdtempSync(join(tmpdir(), "hearth-spm-"));
  writeFileSync(join(dir, "tokenizer.model"), modelProto(pieces, modelType, byteFallback));
  return AutoTokenizer.fromPretrained(dir);
}

describe("SentencePiece BPE", () => {
  it("parses what the writer wrote", () => {
    const m = parseModelProto(modelProto([...base, ["▁a", -1.5, 1]], 2, true));
    assert.equal(m.modelType, 2);
    assert.equal(m.byteFallback, true);
    assert.deepEqual(m.pieces[3], { piece: "▁a", score: -1.5, type: 1 });
    assert.equal(m.normalizer.removeExtraWhitespaces, false);
  });

  it("merges the pair whose merged piece scores highest (not the first pair)", async () => {
    // "▁abc": candidates ▁a (-3), ab (-1), bc (-2) → ab first, then ▁ + ab? no piece; ab + c = abc (-0.5)
    const tok = await load(
      [
        ...base,
        ["▁", -5, 1],
        ["a", -5, 1],
        ["b", -5, 1],
        ["c", -5, 1],
        ["▁a", -3, 1],
        ["ab", -1, 1],
        ["bc", -2, 1],
        ["abc", -0.5, 1],
      ],
      2,
    );
    assert.deepEqual(tok.tokenize("abc"), ["▁", "abc"]);
    assert.deepEqual(tok.encode("abc", { addSpecialTokens: false }), [3, 10]);
  });

  it("keeps user-defined pieces whole and falls back to bytes for unknown characters", async () => {
    const bytes: P[] = Array.from({ length: 256 }, (_, b) => [
      `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`,
      0,
      6,
    ]);
    const tok = await load(
      [...base, ...bytes, ["▁", -5, 1], ["a", -5, 1], ["b", -5, 1], ["ab", -1, 1], ["<tool>", 0, 4], ["<", -5, 1]],
      2,
      true,
    );
    assert.deepEqual(tok.tokenize("a<tool>b"), ["▁", "a", "<tool>", "b"]);
    assert.deepEqual(tok.tokenize("aé"), ["▁", "a", "<0xC3>", "<0xA9>"]);
    assert.equal(tok.decode(tok.encode("aé b<tool>"), { skipSpecialTokens: true }), "aé b<tool>");
  });
});

describe("SentencePiece Unigram", () => {
  it("user-defined pieces win over a better-scoring split", async () => {
    // xy's stored score (-9) is ignored: user-defined pieces score length * FLT_MIN - 0.1 ≈ -0.1,
    // so ▁ + xy (-1.1) beats ▁x + y (-1.5).
    const tok = await load([...base, ["▁", -1, 1], ["x", -1, 1], ["y", -0.5, 1], ["xy", -9, 4], ["▁x", -1, 1]], 1);
    assert.deepEqual(tok.tokenize("xy"), ["▁", "xy"]);
  });
});
