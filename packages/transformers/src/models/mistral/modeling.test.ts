import assert from "node:assert/strict";
import { test } from "node:test";
import { manualSeed, tensor } from "@hearth/tensor";
import { MistralConfig, MistralForCausalLM } from "./index.ts";

const tiny = (sliding_window: number) =>
  new MistralConfig({
    vocab_size: 50,
    hidden_size: 16,
    intermediate_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    sliding_window,
  });

test("mistral: with a sliding window of 3, the last position sees exactly the last 3 tokens", () => {
  manualSeed(3);
  const model = new MistralForCausalLM(tiny(3)).eval();
  const ids = [[4, 8, 15, 16, 23, 42]];
  const full = model.forward({ inputIds: tensor(ids, { dtype: "int64" }) }).logits.dataSync() as Float32Array;
  // Rotary positions are relative, so the window alone, at its own positions, gives the same scores.
  const window = model
    .forward({
      inputIds: tensor([[16, 23, 42]], { dtype: "int64" }),
      positionIds: tensor([[3, 4, 5]], { dtype: "int64" }),
    })
    .logits.dataSync() as Float32Array;
  const V = 50;
  for (let v = 0; v < V; v++) assert.ok(Math.abs((full[5 * V + v] as number) - (window[2 * V + v] as number)) < 1e-5);
  const wide = new MistralForCausalLM(tiny(100)).eval();
  wide.loadStateDict(model.stateDict());
  const all = wide.forward({ inputIds: tensor(ids, { dtype: "int64" }) }).logits.dataSync() as Float32Array;
  assert.ok(Math.abs((all[5 * V] as number) - (full[5 * V] as number)) > 1e-6, "a wider window changes the result");
});

test("mistral: cached generation respects the window like a full recomputation", async () => {
  manualSeed(4);
  const model = new MistralForCausalLM(tiny(3)).eval();
  const ids = tensor([[4, 8, 15, 16, 23]], { dtype: "int64" });
  const a = await model.generate(ids, { maxNewTokens: 6, eosTokenId: null });
  const b = await model.generate(ids, { maxNewTokens: 6, eosTokenId: null, useCache: false });
  assert.deepEqual(a.tolistSync(), b.tolistSync());
});
