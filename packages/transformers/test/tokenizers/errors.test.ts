/** Bad or missing files give coded errors that name the file and what is wrong. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AutoTokenizer, ErrorCodes, Pipeline, partsFromJson } from "../../src/index.ts";

const root = mkdtempSync(join(tmpdir(), "hearth-tok-err-"));
after(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string, files: Record<string, string | Uint8Array>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  for (const [f, data] of Object.entries(files)) writeFileSync(join(dir, f), data);
  return dir;
}

async function rejectsWith(p: Promise<unknown>, code: string, ...mentions: string[]) {
  await assert.rejects(p, (e: { code?: string; message: string }) => {
    assert.equal(e.code, code, e.message);
    for (const m of mentions)
      assert.ok(e.message.includes(m), `message ${JSON.stringify(e.message)} should mention ${m}`);
    return true;
  });
}

const bpeJson = (model: unknown) => JSON.stringify({ version: "1.0", added_tokens: [], model });

describe("loading errors", () => {
  it("a path that is not a folder", async () => {
    await rejectsWith(AutoTokenizer.fromPretrained(join(root, "nope")), ErrorCodes.TOKENIZER_FILE_MISSING, "nope");
  });

  it("a folder without tokenizer files lists what it looked for", async () => {
    await rejectsWith(
      AutoTokenizer.fromPretrained(folder("empty", { "config.json": "{}" })),
      ErrorCodes.TOKENIZER_FILE_MISSING,
      "tokenizer.json",
      "vocab.txt",
    );
  });

  it("tokenizer.json that is not JSON", async () => {
    const dir = folder("badjson", { "tokenizer.json": "{ not json" });
    await rejectsWith(
      AutoTokenizer.fromPretrained(dir),
      ErrorCodes.TOKENIZER_FILE_INVALID,
      join(dir, "tokenizer.json"),
      "JSON",
    );
  });

  it("a model type Hearth does not implement", async () => {
    const dir = folder("unsupported", { "tokenizer.json": bpeJson({ type: "Mystery" }) });
    await rejectsWith(AutoTokenizer.fromPretrained(dir), ErrorCodes.TOKENIZER_UNSUPPORTED, "tokenizer.json", "Mystery");
  });

  it("a merge that names a token missing from the vocabulary", async () => {
    const dir = folder("badmerge", {
      "tokenizer.json": bpeJson({ type: "BPE", vocab: { a: 0, b: 1 }, merges: ["a b"] }),
    });
    await rejectsWith(AutoTokenizer.fromPretrained(dir), ErrorCodes.TOKENIZER_FILE_INVALID, "tokenizer.json", "a b");
  });

  it("a merges.txt line that is not two tokens", async () => {
    const dir = folder("badmerges", {
      "vocab.json": '{"a": 0, "b": 1, "ab": 2}',
      "merges.txt": "#version: 0.2\na b c\n",
    });
    await rejectsWith(AutoTokenizer.fromPretrained(dir), ErrorCodes.TOKENIZER_FILE_INVALID, "merges.txt", "line 2");
  });

  it("a truncated tokenizer.model", async () => {
    const dir = folder("badspm", { "tokenizer.model": new Uint8Array([0x0a, 0x40, 0x0a, 0x05]) });
    await rejectsWith(AutoTokenizer.fromPretrained(dir), ErrorCodes.TOKENIZER_FILE_INVALID, "tokenizer.model");
  });

  it("a .gz file that is not gzip", async () => {
    const dir = folder("badgz", { "vocab.txt.gz": "plain text" });
    await rejectsWith(
      AutoTokenizer.fromPretrained(dir, { fileNames: { "vocab.txt": "vocab.txt.gz" } }),
      ErrorCodes.TOKENIZER_FILE_INVALID,
      "gzip",
    );
  });

  it("WordLevel without unk_token on an unknown word fails at encode time with a coded error", () => {
    const p = new Pipeline(
      partsFromJson({
        model: { type: "WordLevel", vocab: { a: 0 }, unk_token: null },
        pre_tokenizer: { type: "WhitespaceSplit" },
      }),
    );
    assert.throws(
      () => p.encodeSequence("a b", 0, false),
      (e: { code?: string }) => e.code === ErrorCodes.TOKENIZER_UNKNOWN_TOKEN,
    );
  });
});
