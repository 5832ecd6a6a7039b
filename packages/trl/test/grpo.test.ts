/**
 * GRPO: group-relative advantages, rollouts through the Trainer with metrics in the log,
 * a reward the policy can raise, a KL term against the adapter-disabled base, and config errors.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getPeftModel, LoraConfig } from "@hearth/peft";
import { manualSeed } from "@hearth/tensor";
import { AutoModelForCausalLM } from "@hearth/transformers";
import { ErrorCodes, GRPOConfig, GRPOTrainer, groupAdvantages, type RewardInput } from "../src/index.ts";
import { HF_TINY } from "./helpers.ts";

test("groupAdvantages: z-scores within each group (unbiased std + 1e-4), zero for equal rewards", () => {
  const a = groupAdvantages([1, 0, 0, 1, 5, 5], 2);
  const s = Math.SQRT1_2; // std of [1, 0] with Bessel's correction
  for (const [i, v] of [0.5 / (s + 1e-4), -0.5 / (s + 1e-4), -0.5 / (s + 1e-4), 0.5 / (s + 1e-4), 0, 0].entries()) {
    assert.ok(Math.abs((a[i] as number) - v) < 1e-9, `${i}: ${a[i]} vs ${v}`);
  }
});

test("GRPOTrainer + LoRA: samples groups, logs reward/kl/length, and raises a token-count reward", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-grpo-"));
  try {
    manualSeed(0);
    const model = getPeftModel(
      await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`),
      new LoraConfig({ r: 8, loraAlpha: 16, targetModules: ["c_attn", "c_proj"], loraDropout: 0 }),
    );
    // reward: how many completion tokens are below 100 (about 10% of a uniform-ish vocabulary)
    const small = (xs: RewardInput[]) => xs.map((x) => x.completionIds.filter((t) => t < 100).length / 4);
    const trainer = new GRPOTrainer({
      model,
      args: new GRPOConfig({
        outputDir: dir,
        maxSteps: 12,
        perDeviceTrainBatchSize: 1,
        numGenerations: 6,
        maxCompletionLength: 4,
        beta: 0.04,
        learningRate: 5e-2,
        lrSchedulerType: "constant",
        loggingSteps: 6,
        saveStrategy: "no",
        logToConsole: false,
        disableTqdm: true,
      }),
      rewardFuncs: small,
      trainDataset: [{ prompt_input_ids: [5, 6, 7] }, { prompt_input_ids: [9, 10] }],
      eosTokenId: null,
    });
    await trainer.train();
    const logs = trainer.state.logHistory.filter((l) => l.reward !== undefined);
    assert.equal(logs.length, 2);
    for (const k of ["reward", "reward_std", "kl", "completion_length", "rewards/small"]) {
      assert.equal(typeof logs[0]?.[k], "number", k);
    }
    assert.equal(logs[0]?.completion_length, 4);
    assert.ok((logs[1]?.kl as number) > 0, "the policy moved away from the base");
    assert.ok((logs[1]?.reward as number) > (logs[0]?.reward as number), `reward rises: ${logs.map((l) => l.reward)}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("GRPOConfig/GRPOTrainer reject a group of one, β > 0 without a reference, and no reward function", async () => {
  assert.throws(() => new GRPOConfig({ outputDir: "x", numGenerations: 1 }), { code: ErrorCodes.CONFIG_INVALID });
  const base = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
  const data = [{ prompt_input_ids: [1, 2] }];
  assert.throws(
    () =>
      new GRPOTrainer({
        model: base,
        args: new GRPOConfig({ outputDir: "x" }),
        rewardFuncs: () => [],
        trainDataset: data,
      }),
    { code: ErrorCodes.CONFIG_INVALID },
  );
  assert.throws(
    () =>
      new GRPOTrainer({
        model: base,
        args: new GRPOConfig({ outputDir: "x", beta: 0 }),
        rewardFuncs: [],
        trainDataset: data,
      }),
    { code: ErrorCodes.CONFIG_INVALID },
  );
});

test("GRPOTrainer resumes exactly: rollouts are drawn from the per-micro-batch seed", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-grpo-resume-"));
  try {
    const run = async (resume: boolean) => {
      manualSeed(0);
      const model = getPeftModel(
        await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`),
        new LoraConfig({ r: 4, targetModules: ["c_attn"], loraDropout: 0 }),
      );
      const trainer = new GRPOTrainer({
        model,
        args: new GRPOConfig({
          outputDir: dir,
          maxSteps: 4,
          perDeviceTrainBatchSize: 1,
          numGenerations: 4,
          maxCompletionLength: 3,
          learningRate: 5e-2,
          saveSteps: 2,
          logToConsole: false,
          disableTqdm: true,
        }),
        rewardFuncs: (xs) => xs.map((x) => x.completionIds.filter((t) => t < 500).length),
        trainDataset: [{ prompt_input_ids: [5, 6] }, { prompt_input_ids: [7] }],
        eosTokenId: null,
      });
      await trainer.train({ resumeFromCheckpoint: resume ? join(dir, "checkpoint-2") : undefined });
      return model
        .parameters()
        .filter((p) => p.requiresGrad)
        .map((p) => p.dataSync());
    };
    const full = await run(false);
    await rm(join(dir, "checkpoint-4"), { recursive: true });
    const resumed = await run(true);
    for (const [i, w] of resumed.entries()) assert.deepEqual(w, full[i]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
