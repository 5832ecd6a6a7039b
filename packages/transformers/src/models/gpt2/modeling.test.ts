import assert from "node:assert/strict";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { goldenSuite } from "../../../test/causal-lm-goldens.ts";
import { assertClose, HF_TINY, loadGolden } from "../../../test/golden.ts";
import { GPT2Config, GPT2LMHeadModel, GPT2Model } from "./index.ts";

goldenSuite("gpt2", "GPT2LMHeadModel");

test("gpt2: GPT2Model loads the LM-head checkpoint (prefix removed) and gives the same hidden state", async () => {
  const g = loadGolden("gpt2");
  const base = await GPT2Model.fromPretrained(`${HF_TINY}models/gpt2`);
  assert.ok(!base.stateDict()["lm_head.weight"]);
  const out = base.forward({ inputIds: tensor(g.json.input_ids as unknown as number[][], { dtype: "int64" }) });
  assertClose(out.lastHiddenState, g.tensor("last_hidden_state"), "last_hidden_state");
});

test("gpt2: the LM head is tied to wte (one tensor, under both names)", async () => {
  const m = await GPT2LMHeadModel.fromPretrained(`${HF_TINY}models/gpt2`);
  const sd = m.stateDict();
  assert.equal(sd["lm_head.weight"], sd["transformer.wte.weight"]);
  assert.equal(m.namedParameters().filter(([n]) => n === "lm_head.weight").length, 0);
});

test("gpt2: labels give the shifted cross-entropy loss", async () => {
  const m = await GPT2LMHeadModel.fromPretrained(`${HF_TINY}models/gpt2`);
  const ids = [[5, 17, 42, 99]];
  const out = m.forward({
    inputIds: tensor(ids, { dtype: "int64" }),
    labels: tensor([[-100, 17, 42, 99]], { dtype: "int64" }),
  });
  const logits = out.logits.dataSync() as Float32Array;
  const V = 1000;
  let expected = 0;
  for (let t = 0; t < 3; t++) {
    const row = logits.subarray(t * V, (t + 1) * V);
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0));
    expected += lse - (row[(ids[0] as number[])[t + 1] as number] as number);
  }
  assert.ok(Math.abs((out.loss?.item() ?? 0) - expected / 3) < 1e-4);
});

test("gpt2: outputAttentions returns causal probabilities per layer", async () => {
  const m = await GPT2LMHeadModel.fromPretrained(`${HF_TINY}models/gpt2`);
  const out = m.forward({ inputIds: tensor([[1, 2, 3]], { dtype: "int64" }), outputAttentions: true });
  assert.equal(out.attentions?.length, 2);
  const p = out.attentions?.[0]?.tolistSync() as number[][][][];
  assert.deepEqual(out.attentions?.[0]?.shape, [1, 4, 3, 3]);
  const head = (p[0] as number[][][])[0] as number[][];
  assert.equal((head[0] as number[])[1], 0);
  assert.ok(Math.abs((head[2] as number[]).reduce((a, b) => a + b, 0) - 1) < 1e-6);
});

test("gpt2: a config keeps Python's defaults and unknown keys", () => {
  const c = new GPT2Config({ n_layer: 3, custom_key: [1, 2] });
  assert.equal(c.n_embd, 768);
  assert.equal(c.n_layer, 3);
  assert.deepEqual(c.toDict().custom_key, [1, 2]);
});
