/**
 * Seeded random strings over tricky characters (combining marks, ZWJ emoji, CJK, Unicode spaces,
 * ligatures, digits of other scripts): GPT-2 through merges and through tiktoken ranks agree and
 * round-trip; Llama 3 and BERT agree with @huggingface/tokenizers; offsets stay in range.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { gunzipSync } from "node:zlib";
import { Tokenizer } from "@huggingface/tokenizers";
import { loaders, TOKENIZERS } from "./fixtures.ts";

const POOL = [
  " ",
  "  ",
  "\n",
  "\t",
  "\r",
  "a",
  "Z",
  "é",
  "ß",
  "ǅ",
  "İ",
  "'",
  "'s",
  "s",
  "1",
  "٣",
  "。",
  "日",
  "🦙",
  "😶‍🌫️",
  "\u0301",
];
POOL.push("\u00a0", "\u2028", "\u3000", "\u0085", "-", "$", "ﬁ", "Ⅻ", "<|", "|>", "<|endoftext|>", "##", "▁");

function strings(seed: number, count: number): string[] {
  let s = seed;
  const rnd = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  return Array.from({ length: count }, () => {
    let t = "";
    const n = Math.floor(rnd() * 24);
    for (let i = 0; i < n; i++) t += POOL[Math.floor(rnd() * POOL.length)];
    return t;
  });
}

it("fuzz: byte-level BPE agrees across implementations and round-trips", async () => {
  const [gpt2, ranks, llama3] = await Promise.all([loaders.gpt2(), loaders.tiktokenGpt2(), loaders.llama3()]);
  const json = JSON.parse(gunzipSync(readFileSync(join(TOKENIZERS, "llama3-bpe/tokenizer.json.gz"))).toString("utf8"));
  const peer = new Tokenizer(json, llama3.config);
  for (const s of strings(12345, 400)) {
    const label = JSON.stringify(s);
    const ids = gpt2.encode(s);
    assert.deepEqual(ranks.encode(s), ids, `GPT-2 merges vs ranks on ${label}`);
    assert.equal(gpt2.decode(ids, { cleanUpTokenizationSpaces: false }), s, `GPT-2 round trip of ${label}`);
    const l3 = llama3.encode(s);
    assert.deepEqual(
      l3,
      peer.encode(s, { add_special_tokens: false }).ids,
      `Llama 3 vs @huggingface/tokenizers on ${label}`,
    );
    assert.equal(llama3.decode(l3, { cleanUpTokenizationSpaces: false }), s, `Llama 3 round trip of ${label}`);
  }
});

it("fuzz: BERT agrees with @huggingface/tokenizers; offsets stay inside the text", async () => {
  const bert = await loaders.bert();
  const peer = new Tokenizer((bert.source as { json: object }).json, {});
  for (const s of strings(777, 400)) {
    const e = bert.call(s, { returnOffsetsMapping: true });
    assert.deepEqual(e.inputIds, peer.encode(s).ids, `BERT vs @huggingface/tokenizers on ${JSON.stringify(s)}`);
    for (const [a, b] of e.offsetMapping ?? [])
      assert.ok(a >= 0 && a <= b && b <= s.length, `offsets of ${JSON.stringify(s)}`);
  }
});
