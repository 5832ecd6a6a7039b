import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed, tensor } from "@hearth/tensor";
import { AutoTokenizer, LlamaConfig, LlamaForCausalLM, pipeline } from "../index.ts";

const TOKENIZERS = join(import.meta.dirname, "../../../../fixtures/data/tokenizers");

test("text-generation: chat messages go through the chat template and come back with the reply", async () => {
  const tokenizer = await AutoTokenizer.fromPretrained(join(TOKENIZERS, "llama3-bpe"), {
    fileNames: { "tokenizer.json": "tokenizer.json.gz" },
  });
  manualSeed(7);
  const config = new LlamaConfig({
    vocab_size: tokenizer.length,
    hidden_size: 8,
    intermediate_size: 16,
    num_hidden_layers: 1,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    bos_token_id: tokenizer.bosTokenId,
    eos_token_id: tokenizer.eosTokenId,
  });
  const model = new LlamaForCausalLM(config).eval();
  const generator = await pipeline("text-generation", model, { tokenizer });
  const messages = [{ role: "user", content: "Say hi." }];
  const [out] = await generator.call(messages, { maxNewTokens: 5 });
  const chat = out?.generated_text as { role: string; content: string }[];
  assert.equal(chat.length, 2);
  assert.deepEqual(chat[0], messages[0]);
  assert.equal(chat[1]?.role, "assistant");
  // The reply is the greedy continuation of the templated prompt, decoded.
  const ids = tokenizer.applyChatTemplate(messages, { addGenerationPrompt: true }) as number[];
  const seq = (await model.generate(tensor([ids], { dtype: "int64" }), { maxNewTokens: 5 })).tolistSync() as number[][];
  assert.equal(chat[1]?.content, tokenizer.decode((seq[0] as number[]).slice(ids.length), { skipSpecialTokens: true }));

  const [text] = await generator.call("Hello", { maxNewTokens: 3 });
  assert.ok(String(text?.generated_text).startsWith("Hello"));
  const batch = await generator.call(["Hello", "A longer prompt here"], { maxNewTokens: 3, returnFullText: false });
  assert.equal(batch.length, 2);
  assert.equal(batch[0]?.[0]?.generated_text, String(text?.generated_text).slice("Hello".length));
  await assert.rejects(pipeline("summarization" as "text-generation", model, { tokenizer }), /unknown task/);

  // A folder holding both, as Python's save_pretrained writes them, loads by path alone.
  const dir = await mkdtemp(join(tmpdir(), "hearth-pipeline-"));
  try {
    await model.savePretrained(dir);
    await tokenizer.savePretrained(dir);
    const fromDisk = await pipeline("text-generation", dir);
    const [again] = await fromDisk.call(messages, { maxNewTokens: 5 });
    assert.deepEqual(again?.generated_text, out?.generated_text);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
