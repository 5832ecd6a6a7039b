import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { goldenSuite } from "../../../test/causal-lm-goldens.ts";
import { HF_TINY } from "../../../test/golden.ts";
import { LlamaConfig, LlamaForCausalLM } from "./index.ts";

goldenSuite("llama", "LlamaForCausalLM");

test("llama: grouped-query attention and an untied head load from the checkpoint", async () => {
  const m = await LlamaForCausalLM.fromPretrained(`${HF_TINY}models/llama`);
  const sd = m.stateDict();
  assert.deepEqual(sd["model.layers.0.self_attn.k_proj.weight"]?.shape, [32, 64]);
  assert.notEqual(sd["lm_head.weight"], sd["model.embed_tokens.weight"]);
});

test("llama: a tied config shares the embedding and saves no lm_head", async () => {
  const config = new LlamaConfig({
    vocab_size: 50,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 1,
    tie_word_embeddings: true,
  });
  const m = new LlamaForCausalLM(config);
  assert.deepEqual(m.tiedWeights(), { "lm_head.weight": "model.embed_tokens.weight" });
  assert.equal(m.stateDict()["lm_head.weight"], m.stateDict()["model.embed_tokens.weight"]);
  const out = m.forward({ inputIds: tensor([[1, 2, 3]], { dtype: "int64" }) });
  assert.deepEqual(out.logits.shape, [1, 3, 50]);
});

test("llama: outputAttentions gives one [B, H, T, S] map per layer, rows summing to 1", async () => {
  const m = await LlamaForCausalLM.fromPretrained(`${HF_TINY}models/llama`);
  const out = m.forward({ inputIds: tensor([[5, 17, 42]], { dtype: "int64" }), outputAttentions: true });
  assert.equal(out.attentions?.length, 2);
  assert.deepEqual(out.attentions?.[1]?.shape, [1, 4, 3, 3]);
  const p = out.attentions?.[1]?.dataSync() as Float32Array;
  assert.ok(Math.abs((p[6] as number) + (p[7] as number) + (p[8] as number) - 1) < 1e-6);
  assert.equal(p[1], 0);
});
