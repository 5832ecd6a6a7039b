/**
 * Parity with Python's peft 0.10 on the hf-tiny adapters: logits with the adapter, after a
 * save/reload round trip, after `mergeAndUnload` (and the merged weights), greedy generation
 * token for token, and the base logits with the adapter disabled.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { tensor } from "@hearth/tensor";
import { AutoModelForCausalLM, type PreTrainedModelForCausalLM } from "@hearth/transformers";
import { PeftModel } from "../src/index.ts";
import { assertClose, HF_TINY, loadGolden } from "./helpers.ts";

for (const name of ["gpt2", "llama"]) {
  const g = loadGolden(`${name}-lora`);
  const ids = () => tensor(g.json.input_ids as number[][], { dtype: "int64" });
  const load = async () => {
    const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
    return PeftModel.fromPretrained(base, `${HF_TINY}models/${name}-lora`);
  };

  test(`${name}-lora: logits with Python's adapter match within 1e-4; disabled gives the base logits`, async () => {
    const m = await load();
    assert.equal(m.getNbTrainableParameters().trainable, 0, "loaded for inference: frozen");
    assertClose(m.forward({ inputIds: ids() }).logits, g.tensor("lora_logits"), "lora_logits");
    const baseLogits = m.disableAdapter(() => m.forward({ inputIds: ids() }).logits);
    assertClose(baseLogits, g.tensor("base_logits"), "base_logits");
    assertClose(m.forward({ inputIds: ids() }).logits, g.tensor("lora_logits"), "lora_logits after disableAdapter");
  });

  test(`${name}-lora: a Hearth save + reload gives the same logits`, async () => {
    const m = await load();
    const dir = await mkdtemp(join(tmpdir(), "hearth-peft-"));
    try {
      await m.savePretrained(dir);
      const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/${name}`);
      const again = await PeftModel.fromPretrained(base, dir);
      const reloaded = again.forward({ inputIds: ids() }).logits;
      assertClose(reloaded, g.tensor("lora_logits"), "reloaded logits");
      const before = m.forward({ inputIds: ids() }).logits.dataSync() as Float32Array;
      assertClose(reloaded, before, "reloaded vs before saving", 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test(`${name}-lora: mergeAndUnload gives Python's merged weights and logits`, async () => {
    const m = await load();
    const merged = m.mergeAndUnload() as PreTrainedModelForCausalLM;
    assert.equal(merged.constructor.name, g.json.merged_class);
    const sd = merged.stateDict();
    assert.ok(!Object.keys(sd).some((k) => k.includes("lora_") || k.includes("base_layer")), "no adapter left");
    for (const key of Object.keys(g.json.tensors as object).filter((k) => k.startsWith("merged."))) {
      const param = sd[key.slice("merged.".length)];
      assert.ok(param, `merged model has ${key}`);
      assertClose(param, g.tensor(key), key);
    }
    assertClose(merged.forward({ inputIds: ids() }).logits, g.tensor("merged_logits"), "merged_logits");
  });

  test(`${name}-lora: greedy generation with the adapter matches Python token for token`, async () => {
    const m = await load();
    const out = await m.generate(ids(), { maxNewTokens: 20, doSample: false, padTokenId: 0 });
    const row = (out.tolistSync() as number[][])[0] as number[];
    assert.deepEqual(row, (g.json.lora_generate_sequences as number[][])[0]);
  });
}
