/**
 * Hearth's SentencePiece against the real `sentencepiece` library: ids and decoded text for ~500
 * lines (llama.cpp's hard strings, Shakespeare, Botchan, whitespace and Unicode edge cases) on a
 * BPE model (Llama 2) and two Unigram models with nmt_nfkc charsmaps (English, Japanese).
 * Goldens written by tools/gen-sentencepiece-goldens.py.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { AutoTokenizer } from "../../src/index.ts";
import { spDecodePieces } from "../../src/tokenizers/sentencepiece/model.ts";
import { parseModelProto } from "../../src/tokenizers/sentencepiece/proto.ts";
import { FIXTURES, TOKENIZERS } from "./fixtures.ts";

interface Golden {
  cases: Array<{ text: string; ids: number[]; decoded: string }>;
}

const models: Array<[string, string, string]> = [
  ["llama2-spm (BPE, byte fallback)", "llama2-spm/tokenizer.model.gz", "llama2-spm"],
  ["test_model (Unigram, nmt_nfkc)", "sentencepiece-test/test_model.model.gz", "test_model"],
  ["test_ja_model (Unigram, Japanese)", "sentencepiece-test/test_ja_model.model.gz", "test_ja_model"],
];

describe("SentencePiece parity with the sentencepiece library", () => {
  for (const [name, file, golden] of models) {
    it(name, async () => {
      const g = JSON.parse(
        readFileSync(join(FIXTURES, "data/golden/sentencepiece", `${golden}.json`), "utf8"),
      ) as Golden;
      assert.ok(g.cases.length > 500);
      const [dir, base] = [join(TOKENIZERS, file, ".."), file.split("/")[1]];
      const tok = await AutoTokenizer.fromPretrained(dir, { fileNames: { "tokenizer.model": base } });
      const proto = parseModelProto(gunzipSync(readFileSync(join(TOKENIZERS, file))));
      const vocab = new Map(proto.pieces.map((p, i) => [p.piece, i]));
      for (const c of g.cases) {
        assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }), c.ids, `ids of ${JSON.stringify(c.text)}`);
        const pieces = c.ids.map((id) => proto.pieces[id].piece);
        assert.equal(spDecodePieces(proto, vocab, pieces, true), c.decoded, `decode of ${JSON.stringify(c.text)}`);
      }
    });
  }
});
