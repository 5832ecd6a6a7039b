/** The Trainer with a LoRA model: checkpoints hold PEFT's adapter files, and resuming is exact. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed } from "@hearth/tensor";
import {
  AutoModelForCausalLM,
  dataCollatorForLanguageModeling,
  Trainer,
  TrainingArguments,
} from "@hearth/transformers";
import { getPeftModel, LoraConfig } from "../src/index.ts";
import { HF_TINY } from "./helpers.ts";

const data = Array.from({ length: 24 }, (_, i) => ({
  input_ids: Array.from({ length: 6 + (i % 3) }, (_, t) => 1 + ((i * 13 + t * 7) % 997)),
}));

async function run(dir: string, maxSteps: number, resume = false): Promise<Float32Array[]> {
  manualSeed(0);
  const model = getPeftModel(
    await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`),
    new LoraConfig({ r: 4, loraAlpha: 8, targetModules: ["c_attn"], loraDropout: 0.1 }),
  );
  const trainer = new Trainer({
    model,
    args: new TrainingArguments({
      outputDir: dir,
      maxSteps,
      perDeviceTrainBatchSize: 4,
      learningRate: 1e-2,
      saveSteps: 2,
      loggingSteps: 2,
      logToConsole: false,
      disableTqdm: true,
    }),
    trainDataset: data,
    dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
  });
  await trainer.train({ resumeFromCheckpoint: resume ? join(dir, "checkpoint-2") : undefined });
  return model
    .parameters()
    .filter((p) => p.requiresGrad)
    .map((p) => p.dataSync() as Float32Array);
}

test("LoRA + Trainer: checkpoints are adapter folders; resuming from step 2 of 4 ends identical", async () => {
  const a = await mkdtemp(join(tmpdir(), "hearth-lora-trainer-"));
  try {
    const full = await run(a, 4);
    const files = await readdir(join(a, "checkpoint-2"));
    assert.ok(files.includes("adapter_model.safetensors") && files.includes("adapter_config.json"), files.join(", "));
    assert.ok(!files.includes("model.safetensors"), "the frozen base is not copied into checkpoints");
    await rm(join(a, "checkpoint-4"), { recursive: true });
    const resumed = await run(a, 4, true);
    assert.equal(resumed.length, full.length);
    for (const [i, p] of resumed.entries()) assert.deepEqual(p, full[i]);
  } finally {
    await rm(a, { recursive: true, force: true });
  }
});
