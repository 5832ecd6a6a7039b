/** Pipeline components that the hub uses but the four golden vocabularies do not exercise. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { AutoTokenizer } from "../auto.ts";
import { parseModelProto } from "../sentencepiece/proto.ts";
import { Pipeline, partsFromJson } from "./core.ts";
import { NormalizedString } from "./normalized.ts";
import { buildNormalizer } from "./normalizers.ts";
import { translateRegex } from "./unicode.ts";

const SP_DIR = resolve(import.meta.dirname, "../../../../../fixtures/data/tokenizers/sentencepiece-test");

function pipeline(json: Record<string, unknown>): Pipeline {
  return new Pipeline(partsFromJson({ added_tokens: [], ...json }));
}

describe("models missing from or different in @huggingface/tokenizers", () => {
  it("WordLevel maps whole words, unknown ones to unk", () => {
    const p = pipeline({
      normalizer: { type: "Lowercase" },
      pre_tokenizer: { type: "WhitespaceSplit" },
      model: { type: "WordLevel", vocab: { hello: 0, world: 1, "[UNK]": 2 }, unk_token: "[UNK]" },
    });
    const e = p.encodeSequence("Hello  big World", 0, true);
    assert.deepEqual(e.ids, [0, 2, 1]);
    assert.deepEqual(e.offsets, [0, 5, 7, 10, 11, 16]);
  });

  it("Unigram picks the most probable segmentation (Viterbi) and fuses unknowns", () => {
    const p = pipeline({
      pre_tokenizer: { type: "Metaspace", replacement: "▁", prepend_scheme: "always", split: true },
      model: {
        type: "Unigram",
        unk_id: 0,
        vocab: [
          ["<unk>", 0],
          ["▁", -2],
          ["a", -3],
          ["b", -3],
          ["ab", -2.5],
          ["▁a", -1],
          ["▁ab", -5],
        ],
      },
    });
    // "▁ab": ▁a + b = -4 beats ▁ + ab = -4.5 and ▁ab = -5
    assert.deepEqual(p.encodeSequence("ab", 0, false).ids, [5, 3]);
    assert.deepEqual(p.encodeSequence("a xyb", 0, false).ids, [5, 1, 0, 3]);
  });

  it("BPE with continuing-subword prefix and end-of-word suffix", () => {
    const p = pipeline({
      pre_tokenizer: { type: "Whitespace" },
      model: {
        type: "BPE",
        vocab: { l: 0, o: 1, w: 2, "##o": 3, "##w": 4, "lo</w>": 5, "##w</w>": 6, lo: 7, "o</w>": 8, "w</w>": 9 },
        merges: ["l ##o"],
        continuing_subword_prefix: "##",
        end_of_word_suffix: "</w>",
      },
    });
    assert.deepEqual(p.encodeSequence("low", 0, false).ids, [7, 6]);
  });
});

describe("tokenizer.json regexes (Oniguruma) in JavaScript", () => {
  it("keep Unicode \\d, \\w, \\s and (?i:...) semantics and accept escapes the u flag rejects", () => {
    const re = (src: string) => new RegExp(translateRegex(src), "gu");
    assert.deepEqual("x ١٢3".match(re("\\d+")), ["١٢3"]);
    assert.deepEqual("añb-c".match(re("\\w+")), ["añb", "c"]);
    assert.deepEqual("a\u0085b\ufeffc".match(re("\\S+")), ["a", "b\ufeffc"]); // NEL is White_Space, BOM is not
    assert.deepEqual("I'M it'S".match(re("(?i:'s|'m)")), ["'M", "'S"]);
    assert.deepEqual('say "hi"'.match(re('\\"\\w+\\"')), ['"hi"']);
  });
});

describe("normalizers keep offsets", () => {
  it("NFKC of a ligature maps both letters to the one source character", () => {
    const ns = new NormalizedString("ﬁne");
    buildNormalizer({ type: "NFKC" })?.normalize(ns);
    assert.equal(ns.text, "fine");
    assert.deepEqual([ns.originalStart(0), ns.originalEnd(1), ns.originalStart(2), ns.originalEnd(4)], [0, 1, 1, 3]);
  });

  it("Precompiled applies a SentencePiece charsmap (full-width → ASCII)", () => {
    const proto = parseModelProto(gunzipSync(readFileSync(join(SP_DIR, "test_model.model.gz"))));
    const map = Buffer.from(proto.normalizer.precompiledCharsmap as Uint8Array).toString("base64");
    const ns = new NormalizedString("ｈｅｌｌｏ①");
    buildNormalizer({ type: "Precompiled", precompiled_charsmap: map })?.normalize(ns);
    assert.equal(ns.text, "hello1");
    assert.deepEqual([ns.originalStart(5), ns.originalEnd(6)], [5, 6]);
  });

  it("ByteLevel normalizer spells UTF-8 bytes, aligned to their character", () => {
    const ns = new NormalizedString("a é");
    buildNormalizer({ type: "ByteLevel" })?.normalize(ns);
    assert.equal(ns.text, "aĠÃ©");
    assert.deepEqual([ns.originalStart(2), ns.originalEnd(4)], [2, 3]);
  });

  it("Sequence of Replace + Prepend + Strip, as Llama 2's tokenizer.json uses", () => {
    const ns = new NormalizedString(" a b ");
    buildNormalizer({
      type: "Sequence",
      normalizers: [
        { type: "Strip", strip_left: true, strip_right: true },
        { type: "Prepend", prepend: "▁" },
        { type: "Replace", pattern: { String: " " }, content: "▁" },
      ],
    })?.normalize(ns);
    assert.equal(ns.text, "▁a▁b");
    assert.deepEqual([ns.originalStart(0), ns.originalStart(3), ns.originalEnd(4)], [1, 3, 4]);
  });
});

describe("SentencePiece unigram (tokenizer.model)", () => {
  it("encodes as the sentencepiece library does, with its nmt_nfkc charsmap", async () => {
    const tok = await AutoTokenizer.fromPretrained(SP_DIR, {
      fileNames: { "tokenizer.model": "test_model.model.gz" },
      config: { tokenizer_class: "T5Tokenizer" },
    });
    const ids = [9, 459, 11, 939, 44, 11, 4, 142, 82, 8, 28, 21, 132, 6];
    assert.deepEqual(tok.encode("I saw a girl with a telescope.", { addSpecialTokens: false }), ids);
    assert.deepEqual(tok.tokenize("I saw a girl with a telescope."), [
      "▁I",
      "▁saw",
      "▁a",
      "▁girl",
      "▁with",
      "▁a",
      "▁",
      "te",
      "le",
      "s",
      "c",
      "o",
      "pe",
      ".",
    ]);
    // remove_extra_whitespaces and full-width folding happen in the normaliser
    assert.deepEqual(tok.encode("  Ｉ   saw a girl with a telescope. ", { addSpecialTokens: false }), ids);
    assert.deepEqual(tok.encode("I saw"), [9, 459, 2]); // T5 style: </s> appended
    assert.equal(tok.decode(ids), "I saw a girl with a telescope.");
  });
});

describe("vocabularies holding Object.prototype names", () => {
  it("'constructor', '__proto__' and 'toString' are ordinary tokens", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(join(tmpdir(), "hearth-proto-"));
    writeFileSync(
      join(dir, "vocab.txt"),
      ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "constructor", "__proto__", "tostring"].join("\n"),
    );
    const tok = await AutoTokenizer.fromPretrained(dir);
    assert.deepEqual(tok.encode("constructor toString", { addSpecialTokens: false }), [5, 7]);
    assert.equal(tok.tokenToId("__proto__"), 6); // (BERT would split it at the underscores)
    const p = pipeline(
      JSON.parse(
        '{"pre_tokenizer":{"type":"WhitespaceSplit"},"model":{"type":"WordLevel","vocab":{"__proto__":0,"constructor":1,"[UNK]":2},"unk_token":"[UNK]"}}',
      ),
    );
    assert.deepEqual(p.encodeSequence("constructor __proto__ hasOwnProperty", 0, false).ids, [1, 0, 2]);
  });
});
