/**
 * Exactness against real references: llama.cpp's ids for 47 strings × 4 vocabularies, and the
 * Python slow tokenizers' ids/decoded text (hf-tiny preprocessing golden).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GOLDEN_INPUTS, goldenIds, loaders, pythonCases } from "./fixtures.ts";

describe("llama.cpp goldens (47 strings each)", () => {
  const cases: Array<[string, string, () => ReturnType<typeof loaders.gpt2>]> = [
    ["GPT-2 vocab.json + merges.txt", "gpt-2", loaders.gpt2],
    ["BERT uncased vocab.txt", "bert-bge", loaders.bert],
    ["Llama SentencePiece tokenizer.model", "llama-spm", () => loaders.llama2()],
    ["Llama 3 tokenizer.json", "llama-bpe", loaders.llama3],
    ["GPT-2 ranks as a tiktoken file", "gpt-2", loaders.tiktokenGpt2],
  ];
  for (const [name, vocab, load] of cases) {
    it(name, async () => {
      const tok = await load();
      const want = goldenIds(vocab);
      assert.equal(GOLDEN_INPUTS.length, 47);
      for (let i = 0; i < GOLDEN_INPUTS.length; i++) {
        assert.deepEqual(
          tok.encode(GOLDEN_INPUTS[i], { addSpecialTokens: false }),
          want[i],
          `input ${i}: ${JSON.stringify(GOLDEN_INPUTS[i])}`,
        );
      }
    });
  }
});

describe("Python slow tokenizers (transformers 4.40)", () => {
  const cases: Array<[string, string, () => ReturnType<typeof loaders.gpt2>]> = [
    ["GPT2Tokenizer", "gpt2_slow", loaders.gpt2],
    ["BertTokenizer (uncased)", "bert_slow_uncased", loaders.bert],
    ["LlamaTokenizer legacy=true", "llama_slow_legacy_True", () => loaders.llama2({ legacy: true })],
    ["LlamaTokenizer legacy=false", "llama_slow_legacy_False", () => loaders.llama2({ legacy: false })],
  ];
  for (const [name, key, load] of cases) {
    it(`${name}: ids, ids with special tokens, decoded text`, async () => {
      const tok = await load();
      const all = pythonCases(key);
      assert.equal(all.length, 47);
      for (const c of all) {
        const label = JSON.stringify(c.text);
        assert.deepEqual(tok.encode(c.text, { addSpecialTokens: false }), c.ids, `ids of ${label}`);
        assert.deepEqual(tok.encode(c.text), c.ids_with_special_tokens, `ids with special tokens of ${label}`);
        assert.equal(tok.decode(c.ids), c.decoded, `decode of ${label}`);
        assert.equal(
          tok.decode(c.ids_with_special_tokens, { skipSpecialTokens: true }),
          tok.decode(c.ids, { skipSpecialTokens: true }),
          `decode(skip specials) of ${label}`,
        );
      }
    });
  }
});
