/** The encode/decode surface: pairs, padding, truncation with overflow, masks, offsets, added tokens. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { ErrorCodes, type PreTrainedTokenizer } from "../../src/index.ts";
import { fresh, loaders } from "./fixtures.ts";

let bert: PreTrainedTokenizer;
let gpt2: PreTrainedTokenizer;
let llama3: PreTrainedTokenizer;
let llama2: PreTrainedTokenizer;
before(async () => {
  [bert, gpt2, llama3, llama2] = await Promise.all([
    loaders.bert(),
    fresh.gpt2(), // it gets a pad token below
    loaders.llama3(),
    loaders.llama2(),
  ]);
});

describe("pairs, type ids, masks", () => {
  it("BERT wraps a pair as [CLS] A [SEP] B [SEP] with type ids 0/1", () => {
    const e = bert.call("Hello, Führer!", { textPair: "Who?", returnSpecialTokensMask: true });
    assert.deepEqual(e.inputIds, [101, 7592, 1010, 11865, 17875, 999, 102, 2040, 1029, 102]);
    assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(e.specialTokensMask, [1, 0, 0, 0, 0, 0, 1, 0, 0, 1]);
    assert.deepEqual(e.attentionMask, new Array(10).fill(1));
    assert.deepEqual(e.sequenceIds, [null, 0, 0, 0, 0, 0, null, 1, 1, null]);
  });

  it("GPT-2 and Llama 3 return no token type ids (model_input_names), BERT does", () => {
    assert.equal(gpt2.call("hi").tokenTypeIds, undefined);
    assert.equal(llama3.call("hi").tokenTypeIds, undefined);
    assert.deepEqual(bert.call("hi").tokenTypeIds, [0, 0, 0]);
    assert.deepEqual(gpt2.call("hi", { returnTokenTypeIds: true }).tokenTypeIds, [0]);
  });

  it("special tokens around ids that are already tokenized", () => {
    assert.equal(bert.numSpecialTokensToAdd(), 2);
    assert.equal(bert.numSpecialTokensToAdd(true), 3);
    assert.deepEqual(bert.buildInputsWithSpecialTokens([7592], [2088]), [101, 7592, 102, 2088, 102]);
    assert.deepEqual(bert.getSpecialTokensMask([7592], [2088]), [1, 0, 1, 0, 1]);
    assert.deepEqual(bert.getSpecialTokensMask([101, 7592, 102], undefined, true), [1, 0, 1]);
    assert.deepEqual(llama2.buildInputsWithSpecialTokens([15043]), [1, 15043]);
    assert.equal(gpt2.numSpecialTokensToAdd(), 0);
    assert.equal(gpt2.convertTokensToString(["Hello", "Ġworld", "Ġ,"]), "Hello world ,");
  });

  it("addSpecialTokens: false leaves the special tokens out", () => {
    assert.deepEqual(bert.encode("hello", { addSpecialTokens: false }), [7592]);
    assert.deepEqual(llama2.encode("Hello", { addSpecialTokens: false }), [15043]);
    assert.deepEqual(llama2.encode("Hello"), [1, 15043]);
  });
});

describe("padding", () => {
  it("pads right to the longest row with [PAD] and a zero mask", () => {
    const b = bert.call(["a b c", "x"], { padding: true });
    assert.deepEqual(b.inputIds, [
      [101, 1037, 1038, 1039, 102],
      [101, 1060, 102, 0, 0],
    ]);
    assert.deepEqual(b.attentionMask, [
      [1, 1, 1, 1, 1],
      [1, 1, 1, 0, 0],
    ]);
  });

  it("pads left when asked, marking pads as special tokens", () => {
    const b = bert.call(["a b c", "x"], { padding: "longest", paddingSide: "left", returnSpecialTokensMask: true });
    assert.deepEqual(b.inputIds[1], [0, 0, 101, 1060, 102]);
    assert.deepEqual(b.attentionMask?.[1], [0, 0, 1, 1, 1]);
    assert.deepEqual(b.specialTokensMask?.[1], [1, 1, 1, 0, 1]);
  });

  it("pads to max_length and to a multiple", () => {
    assert.equal(bert.call(["a"], { padding: "max_length", maxLength: 7 }).inputIds[0].length, 7);
    const m = bert.call(["a b c", "x"], { padding: true, padToMultipleOf: 8 });
    assert.deepEqual(
      m.inputIds.map((r) => r.length),
      [8, 8],
    );
    // max_length padding does not truncate a longer row
    assert.equal(bert.call(["a b c d e"], { padding: "max_length", maxLength: 4 }).inputIds[0].length, 7);
  });

  it("refuses to pad without a pad token, then pads with the one added", () => {
    const tok = gpt2;
    assert.throws(
      () => tok.call(["Hello world", "Hi"], { padding: true }),
      (e: { code?: string }) => e.code === ErrorCodes.TOKENIZER_NO_PAD_TOKEN,
    );
    assert.equal(tok.addSpecialTokens({ pad_token: "<|endoftext|>" }), 0);
    assert.equal(tok.padTokenId, 50256);
    const b = tok.call(["Hello world", "Hi"], { padding: true, paddingSide: "left" });
    assert.deepEqual(b.inputIds, [
      [15496, 995],
      [50256, 17250],
    ]);
  });
});

describe("truncation", () => {
  it("counts the special tokens and cuts from the right", () => {
    assert.deepEqual(bert.encode("a b c d e f g h", { truncation: true, maxLength: 5 }), [101, 1037, 1038, 1039, 102]);
  });

  it("cuts from the left when truncationSide is left", () => {
    assert.deepEqual(
      bert.encode("a b c d e f g h", { truncation: true, maxLength: 5, truncationSide: "left" }),
      [101, 1042, 1043, 1044, 102],
    );
  });

  it("returns overflowing windows that overlap by stride", () => {
    const b = bert.call(["a b c d e f g h", "x"], {
      truncation: true,
      maxLength: 6,
      stride: 1,
      returnOverflowingTokens: true,
    });
    // a..h = 1037..1044; room for 4 tokens per window, windows start every 3
    assert.deepEqual(b.inputIds, [
      [101, 1037, 1038, 1039, 1040, 102],
      [101, 1040, 1041, 1042, 1043, 102],
      [101, 1043, 1044, 102],
      [101, 1060, 102],
    ]);
    assert.deepEqual(b.overflowToSampleMapping, [0, 0, 0, 1]);
  });

  it("truncates pairs longest-first and only-second", () => {
    const lf = bert.call("a b c d e f", { textPair: "x y", truncation: true, maxLength: 8 });
    assert.deepEqual(lf.inputIds, [101, 1037, 1038, 1039, 102, 1060, 1061, 102]);
    const os = bert.call("a b", { textPair: "t u v w x y", truncation: "only_second", maxLength: 8 });
    assert.deepEqual(os.inputIds, [101, 1037, 1038, 102, 1056, 1057, 1058, 102]);
    assert.throws(
      () => bert.call("a b c d e f", { textPair: "x", truncation: "only_second", maxLength: 6 }),
      (e: { code?: string }) => e.code === ErrorCodes.TOKENIZER_BAD_ARGUMENT,
    );
  });

  it("a maxLength alone implies truncation, as in Python", () => {
    assert.equal(gpt2.encode("one two three four five", { maxLength: 2 }).length, 2);
  });
});

describe("offsets", () => {
  it("map normalised BERT tokens back to the original text", () => {
    const text = "Hello, Führer!";
    const e = bert.call(text, { returnOffsetsMapping: true });
    assert.deepEqual(e.offsetMapping, [
      [0, 0],
      [0, 5],
      [5, 6],
      [7, 9],
      [9, 13],
      [13, 14],
      [0, 0],
    ]);
    assert.equal(text.slice(7, 13), "Führer");
  });

  it("map byte-level tokens to UTF-16 ranges, partial characters to the whole character", () => {
    const e = gpt2.call("Hello world 🦙", { returnOffsetsMapping: true });
    assert.deepEqual(e.inputIds, [15496, 995, 12520, 99, 247]);
    assert.deepEqual(e.offsetMapping, [
      [0, 5],
      [5, 11],
      [11, 14],
      [12, 14],
      [12, 14],
    ]);
  });

  it("cover added special tokens found in the text", () => {
    const e = llama3.call("<|begin_of_text|>Hello world", { returnOffsetsMapping: true });
    assert.deepEqual(e.inputIds, [128000, 9906, 1917]);
    assert.deepEqual(e.offsetMapping, [
      [0, 17],
      [17, 22],
      [22, 28],
    ]);
  });
});

describe("decoding and added tokens", () => {
  it("skipSpecialTokens drops special tokens", () => {
    const ids = llama3.encode("<|begin_of_text|>Hello<|eot_id|>");
    assert.equal(llama3.decode(ids), "<|begin_of_text|>Hello<|eot_id|>");
    assert.equal(llama3.decode(ids, { skipSpecialTokens: true }), "Hello");
    assert.deepEqual(llama3.batchDecode([ids, [9906]], { skipSpecialTokens: true }), ["Hello", "Hello"]);
  });

  it("added tokens get new ids, split the text, and honour single_word / lstrip / rstrip", async () => {
    const tok = await fresh.bert();
    const n = tok.length;
    assert.equal(
      tok.addTokens([
        "<tool>",
        { content: "[WORD]", singleWord: true },
        { content: "[L]", lstrip: true, rstrip: true },
      ]),
      3,
    );
    assert.equal(tok.length, n + 3);
    assert.deepEqual(tok.encode("a<tool>b", { addSpecialTokens: false }), [1037, n, 1038]);
    // single_word: inside a word it is not a token
    assert.deepEqual(tok.encode("x [WORD] y", { addSpecialTokens: false }), [1060, n + 1, 1061]);
    assert.notDeepEqual(tok.encode("x[WORD]y", { addSpecialTokens: false }).includes(n + 1), true);
    const e = tok.call("a  [L]  b", { addSpecialTokens: false, returnOffsetsMapping: true });
    assert.deepEqual(e.inputIds, [1037, n + 2, 1038]);
    assert.deepEqual(e.offsetMapping?.[1], [1, 8]);
    assert.equal(tok.decode([1037, n, 1038]), "a <tool> b");
  });

  it("split_special_tokens makes special tokens in the text plain text", async () => {
    const { AutoTokenizer } = await import("../../src/index.ts");
    const { join } = await import("node:path");
    const { TOKENIZERS } = await import("./fixtures.ts");
    const tok = await AutoTokenizer.fromPretrained(join(TOKENIZERS, "llama3-bpe"), {
      fileNames: { "tokenizer.json": "tokenizer.json.gz" },
      config: { split_special_tokens: true },
    });
    const ids = tok.encode("<|begin_of_text|>Hi");
    assert.ok(!ids.includes(128000));
    assert.equal(tok.decode(ids), "<|begin_of_text|>Hi");
  });

  it("tokenize and id conversion", () => {
    assert.deepEqual(bert.tokenize("Hello, Führer!"), ["hello", ",", "fu", "##hrer", "!"]);
    assert.deepEqual(gpt2.convertTokensToIds(["Hello", "Ġworld"]), [15496, 995]);
    assert.deepEqual(gpt2.convertIdsToTokens([15496, 995]), ["Hello", "Ġworld"]);
    assert.equal(llama3.bosTokenId, 128000);
    assert.equal(bert.clsTokenId, 101);
  });

  it("rejects ids outside the vocabulary with a coded error", () => {
    assert.throws(
      () => gpt2.decode([15496, 9_999_999]),
      (e: { code?: string; message: string }) =>
        e.code === ErrorCodes.TOKENIZER_UNKNOWN_ID && e.message.includes("9999999"),
    );
  });
});

describe("other legacy formats", () => {
  it("RoBERTa-style vocab.json + merges.txt: <s> A </s></s> B </s>, trimmed offsets, <mask> with lstrip", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { AutoTokenizer } = await import("../../src/index.ts");
    const dir = mkdtempSync(join(tmpdir(), "hearth-roberta-"));
    const vocab = { "<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, h: 4, i: 5, Ġ: 6, hi: 7, Ġhi: 8, "<mask>": 9 };
    writeFileSync(join(dir, "vocab.json"), JSON.stringify(vocab));
    writeFileSync(join(dir, "merges.txt"), "#version: 0.2\nh i\nĠ hi\n");
    writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ tokenizer_class: "RobertaTokenizer" }));
    const tok = await AutoTokenizer.fromPretrained(dir);
    const e = tok.call("hi hi", { textPair: "hi", returnOffsetsMapping: true });
    assert.deepEqual(e.inputIds, [0, 7, 8, 2, 2, 7, 2]);
    assert.deepEqual(e.offsetMapping, [
      [0, 0],
      [0, 2],
      [3, 5],
      [0, 0],
      [0, 0],
      [0, 2],
      [0, 0],
    ]);
    assert.deepEqual(tok.encode("hi <mask>", { addSpecialTokens: false }), [7, 9]);
    assert.equal(tok.padTokenId, 1);
    assert.equal(tok.maskTokenId, 9);
  });
});
