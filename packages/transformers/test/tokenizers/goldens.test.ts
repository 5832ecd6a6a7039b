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

describe("Whisper's multilingual tiktoken vocabulary", () => {
  it("decodes the ids openai/whisper's tests assert, a partial UTF-8 byte as U+FFFD", async () => {
    const { AutoTokenizer } = await import("../../src/index.ts");
    const { join } = await import("node:path");
    const { TOKENIZERS } = await import("./fixtures.ts");
    const tok = await AutoTokenizer.fromPretrained(join(TOKENIZERS, "whisper"), {
      fileNames: { tiktoken: "multilingual.tiktoken.gz" },
      tiktokenSpecialTokens: { "<|endoftext|>": 50257, "<|startoftranscript|>": 50258 },
    });
    const ids = [8404, 871, 287, 6, 246, 526, 3210, 20378];
    assert.deepEqual(
      ids.map((id) => tok.decode([id])),
      [" elle", " est", " l", "'", "\ufffd", "é", "rit", "oire"],
    );
    assert.equal(tok.decode(ids), " elle est l'\ufffdéritoire");
    const text = "Testing encode and decode functionality.";
    assert.equal(tok.decode(tok.encode(text)), text);
    assert.deepEqual(tok.encode("<|startoftranscript|>hi", { addSpecialTokens: false }).slice(0, 1), [50258]);
  });
});

describe("agreement on longer text (fixture READMEs and licences, ~40 KB)", () => {
  it("GPT-2 merges (vocab.json + merges.txt) and GPT-2 ranks (tiktoken) give the same ids; Llama 3 matches @huggingface/tokenizers", async () => {
    const { readFileSync, readdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { gunzipSync } = await import("node:zlib");
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const { FIXTURES, TOKENIZERS } = await import("./fixtures.ts");
    const docs = [join(FIXTURES, "hf-tiny/README.md"), join(FIXTURES, "MANIFEST.md")];
    for (const f of readdirSync(join(FIXTURES, "licenses"))) docs.push(join(FIXTURES, "licenses", f));
    const text = docs.map((d) => readFileSync(d, "utf8")).join("\n\n") + GOLDEN_INPUTS.join("\n");
    assert.ok(text.length > 20_000);
    const [merges, ranks, llama3] = await Promise.all([loaders.gpt2(), loaders.tiktokenGpt2(), loaders.llama3()]);
    const ids = merges.encode(text);
    assert.deepEqual(ranks.encode(text), ids);
    assert.equal(merges.decode(ids, { cleanUpTokenizationSpaces: false }), text);
    const json = JSON.parse(
      gunzipSync(readFileSync(join(TOKENIZERS, "llama3-bpe/tokenizer.json.gz"))).toString("utf8"),
    );
    const peer = new Tokenizer(json, llama3.config);
    const lines = text.split("\n");
    for (const line of lines) {
      assert.deepEqual(
        llama3.encode(line, { addSpecialTokens: false }),
        peer.encode(line, { add_special_tokens: false }).ids,
        JSON.stringify(line),
      );
    }
    assert.equal(llama3.decode(llama3.encode(text), { cleanUpTokenizationSpaces: false }), text);
  });
});
