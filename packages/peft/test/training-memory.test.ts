/**
 * GPT-2 training steps as bench/train runs them (full fine-tuning and LoRA, AdamW, each step in a
 * scope) hold the same memory every step: no storage, allocator block or cached block outlives
 * its step (issue 11's "no growth of resident memory over 200 steps", at a size a test can run).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AdamW, liveStorages, manualSeed, randint, scope, type Tensor } from "@hearth/tensor";
import { allocatorStats } from "@hearth/tensor/native";
import { GPT2Config, GPT2LMHeadModel } from "@hearth/transformers";
import { getPeftModel, LoraConfig } from "../src/index.ts";

for (const mode of ["full", "lora"] as const) {
  test(`GPT-2 ${mode} training: storages and allocator blocks stay constant over 40 steps`, () => {
    manualSeed(0);
    const base = new GPT2LMHeadModel(
      new GPT2Config({ vocab_size: 97, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4 }),
    ).train();
    const model =
      mode === "full" ? base : getPeftModel(base, new LoraConfig({ r: 4, loraAlpha: 8, targetModules: ["c_attn"] }));
    const opt = new AdamW(
      model.parameters().filter((p) => p.requiresGrad),
      { lr: 1e-2 },
    );
    const ids = randint(0, 97, [3, 17], { dtype: "int64" });
    const step = () =>
      scope(() => {
        const { loss } = model.forward({ inputIds: ids, labels: ids }) as { loss: Tensor };
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      });
    // The optimiser's state appears on its first step; the counts are taken after it settles.
    const snapshot = () => ({ storages: liveStorages(), ...allocatorStats() });
    let first = 0;
    let last = 0;
    let settled: ReturnType<typeof snapshot> | undefined;
    for (let i = 0; i < 40; i++) {
      last = step();
      if (i === 0) first = last;
      if (i === 4) settled = snapshot();
    }
    assert.deepEqual(snapshot(), settled, "no storage or native block outlives its step");
    assert.ok(last < first, `the loop trains (loss ${first} -> ${last})`);
  });
}
