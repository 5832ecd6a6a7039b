/**
 * saveTokenizer writes the files the Python stack reads; reloading them (with Hearth, and the
 * tokenizer.json with `@huggingface/tokenizers`, an independent implementation) gives the same ids.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { Tokenizer } from "@huggingface/tokenizers";
import { AutoTokenizer, type PreTrainedTokenizer } from "../../src/index.ts";
import { fresh, GOLDEN_INPUTS, goldenIds, loaders, TOKENIZERS } from "./fixtures.ts";

const root = mkdtempSync(join(tmpdir(), "hearth-tok-save-"));
after(() => rmSync(root, { recursive: true, force: true }));

async function roundTrip(
  name: string,
  tok: PreTrainedTokenizer,
  reload: { useFast?: boolean } = {},
): Promise<{ dir: string; again: PreTrainedTokenizer }> {
  const dir = join(root, name);
  const files = await tok.saveTokenizer(dir);
  assert.ok(files.length >= 3);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes(".tmp")),
    [],
    "no temporary files left",
  );
  const again = await AutoTokenizer.fromPretrained(dir, reload);
  for (const text of GOLDEN_INPUTS) {
    const ids = tok.encode(text);
    assert.deepEqual(again.encode(text), ids, `reloaded ${name} encodes ${JSON.stringify(text)} the same`);
    assert.equal(again.decode(ids), tok.decode(ids));
  }
  return { dir, again };
}

const readJson = (p: string) => JSON.parse(readFileSync(p, "utf8"));

describe("saveTokenizer", () => {
  it("GPT-2: vocab.json + merges.txt + tokenizer.json that another implementation loads", async () => {
    const tok = await loaders.gpt2();
    const { dir } = await roundTrip("gpt2", tok);
    assert.deepEqual(readdirSync(dir).sort(), [
      "merges.txt",
      "special_tokens_map.json",
      "tokenizer.json",
      "tokenizer_config.json",
      "vocab.json",
    ]);
    assert.ok(readFileSync(join(dir, "merges.txt"), "utf8").startsWith("#version: 0.2\nĠ t\n"));
    const config = readJson(join(dir, "tokenizer_config.json"));
    assert.equal(config.tokenizer_class, "GPT2Tokenizer");
    assert.deepEqual(config.added_tokens_decoder["50256"], {
      content: "<|endoftext|>",
      lstrip: false,
      normalized: true,
      rstrip: false,
      single_word: false,
      special: true,
    });
    assert.match(
      readFileSync(join(dir, "tokenizer_config.json"), "utf8"),
      /"model_max_length": 1000000000000000019884624838656/,
    );
    const peer = new Tokenizer(readJson(join(dir, "tokenizer.json")), config);
    const want = goldenIds("gpt-2");
    GOLDEN_INPUTS.forEach((text, i) => {
      assert.deepEqual(
        peer.encode(text, { add_special_tokens: false }).ids,
        want[i],
        `peer on ${JSON.stringify(text)}`,
      );
    });
  });

  it("BERT: vocab.txt + tokenizer.json; added tokens survive", async () => {
    const tok = await fresh.bert();
    tok.addTokens(["<new>"]);
    const { dir, again } = await roundTrip("bert", tok);
    const lines = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n");
    assert.equal(lines[101], "[CLS]");
    assert.equal(again.tokenToId("<new>"), 30522);
    assert.deepEqual(again.encode("a <new> b"), [101, 1037, 30522, 1038, 102]);
    const peer = new Tokenizer(readJson(join(dir, "tokenizer.json")), readJson(join(dir, "tokenizer_config.json")));
    assert.deepEqual(peer.encode("Hello, Führer!").ids, tok.encode("Hello, Führer!"));
  });

  it("SentencePiece: tokenizer.model written back byte for byte, legacy flag kept", async () => {
    const tok = await loaders.llama2({ legacy: false });
    const { dir, again } = await roundTrip("llama2", tok, { useFast: false });
    const original = gunzipSync(readFileSync(join(TOKENIZERS, "llama2-spm/tokenizer.model.gz")));
    assert.ok(Buffer.compare(readFileSync(join(dir, "tokenizer.model")), original) === 0);
    const config = readJson(join(dir, "tokenizer_config.json"));
    assert.equal(config.legacy, false);
    assert.equal(config.tokenizer_class, "LlamaTokenizer");
    assert.equal(again.decode([29871, 15043]), " Hello");
    assert.deepEqual(readJson(join(dir, "special_tokens_map.json")).bos_token.content, "<s>");
  });

  it("SentencePiece BPE also gets a tokenizer.json (LlamaConverter's) that reproduces the goldens", async () => {
    const tok = await loaders.llama2({ legacy: true });
    const dir = join(root, "llama2-fast");
    await tok.saveTokenizer(dir);
    const json = readJson(join(dir, "tokenizer.json"));
    assert.equal(json.model.type, "BPE");
    assert.equal(json.model.byte_fallback, true);
    const fast = await AutoTokenizer.fromPretrained(dir);
    assert.equal(fast.source.kind, "tokenizer.json");
    const want = goldenIds("llama-spm");
    GOLDEN_INPUTS.forEach((text, i) => {
      assert.deepEqual(
        fast.encode(text, { addSpecialTokens: false }),
        want[i],
        `fast Llama on ${JSON.stringify(text)}`,
      );
    });
    assert.deepEqual(fast.encode("Hello"), [1, 15043]);
    // LlamaTokenizerFast rebuilds its template from add_bos_token / add_eos_token, as in Python.
    const eos = await AutoTokenizer.fromPretrained(dir, { config: { add_eos_token: true } });
    assert.deepEqual(eos.encode("Hello"), [1, 15043, 2]);
    assert.deepEqual(eos.encode("Hello", { textPair: "world" }), [1, 15043, 2, 1, 3186, 2]);
    assert.equal(fast.decode([1, 15043, 3186], { skipSpecialTokens: true }), "Hello world");
  });

  it("Llama 3 tokenizer.json: chat template and special tokens kept", async () => {
    const tok = await loaders.llama3();
    const { dir, again } = await roundTrip("llama3", tok);
    assert.equal(again.config.chat_template, tok.config.chat_template);
    assert.equal(again.bosTokenId, 128000);
    assert.equal(readJson(join(dir, "tokenizer.json")).added_tokens.length, 256);
  });

  it("tiktoken: ranks become vocab + merges that reproduce rank-order BPE", async () => {
    const tok = await loaders.tiktokenGpt2();
    const { dir } = await roundTrip("tiktoken", tok);
    const json = readJson(join(dir, "tokenizer.json"));
    assert.equal(json.model.type, "BPE");
    assert.ok(json.model.merges.length > 49_000);
  });

  it("fails with a coded error when the folder cannot be created", async () => {
    const tok = await loaders.bert();
    const file = join(root, "bert", "vocab.txt"); // a file, so a folder below it cannot exist
    await assert.rejects(
      tok.saveTokenizer(join(file, "sub")),
      (e: { code?: string }) => e.code === "HEARTH_TOKENIZER_SAVE_FAILED",
    );
  });
});
