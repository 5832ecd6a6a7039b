/**
 * PPO: GAE against a hand computation, and a short run on hf-tiny gpt2 + LoRA with a value
 * head: rollouts are reused for ppoEpochs steps (the ratio moves, clipping engages), metrics are
 * logged, and the KL-penalised reward rises.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getPeftModel, LoraConfig } from "@hearth/peft";
import { manualSeed } from "@hearth/tensor";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { gae, PPOConfig, PPOTrainer, type RewardInput } from "../src/index.ts";
import { HF_TINY } from "./helpers.ts";

test("gae: δ_t = r_t + γV_{t+1} − V_t, A_t = δ_t + γλA_{t+1}, returns = A + V", () => {
  const { advantages, returns } = gae([0, 0, 1], [0.5, 0.2, 0.1], 0.9, 0.5);
  const d2 = 1 - 0.1;
  const d1 = 0 + 0.9 * 0.1 - 0.2;
  const d0 = 0 + 0.9 * 0.2 - 0.5;
  const a2 = d2;
  const a1 = d1 + 0.45 * a2;
  const a0 = d0 + 0.45 * a1;
  for (const [i, v] of [a0, a1, a2].entries()) assert.ok(Math.abs((advantages[i] as number) - v) < 1e-12);
  assert.ok(Math.abs((returns[0] as number) - (a0 + 0.5)) < 1e-12);
});

test("PPOTrainer + LoRA + value head: reused rollouts, clipping, logged metrics", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-ppo-"));
  try {
    manualSeed(0);
    const model = getPeftModel(
      await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`),
      new LoraConfig({ r: 8, loraAlpha: 16, targetModules: ["c_attn", "c_proj"], loraDropout: 0 }),
    );
    const small = (xs: RewardInput[]) => xs.map((x) => x.completionIds.filter((t) => t < 100).length / 4);
    const trainer = new PPOTrainer({
      model,
      args: new PPOConfig({
        outputDir: dir,
        maxSteps: 8,
        perDeviceTrainBatchSize: 4,
        ppoEpochs: 4,
        maxNewTokens: 4,
        learningRate: 5e-2,
        lrSchedulerType: "constant",
        loggingSteps: 4,
        saveStrategy: "no",
        logToConsole: false,
        disableTqdm: true,
      }),
      rewardFn: small,
      trainDataset: [5, 9, 13, 21].map((i) => ({ prompt_input_ids: [i, i + 1] })),
      eosTokenId: null,
    });
    const v0 = Float32Array.from(trainer.valueHead.summary.weight.dataSync() as Float32Array);
    await trainer.train();
    const logs = trainer.state.logHistory.filter((l) => l["env/reward_mean"] !== undefined);
    assert.equal(logs.length, 2);
    for (const k of [
      "objective/kl",
      "ppo/loss/policy",
      "ppo/loss/value",
      "ppo/policy/clipfrac",
      "tokens/responses_len_mean",
    ]) {
      assert.equal(typeof logs[0]?.[k], "number", k);
    }
    assert.ok((logs[0]?.["ppo/policy/clipfrac"] as number) > 0, "later epochs on a rollout clip the ratio");
    const v1 = trainer.valueHead.summary.weight.dataSync() as Float32Array;
    assert.ok(
      v1.some((x, i) => x !== v0[i]),
      "the value head trains",
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
