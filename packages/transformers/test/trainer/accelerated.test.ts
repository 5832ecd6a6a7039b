/**
 * The Trainer on the Accelerator: bf16/fp16 from TrainingArguments, and a 2-process data-parallel
 * run (`launch`) that ends where the 1-process run with the same global batch ends.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { launch } from "@hearth/accelerate";
import { manualSeed } from "@hearth/tensor";
import {
  dataCollatorForLanguageModeling,
  GPT2Config,
  GPT2LMHeadModel,
  Trainer,
  TrainingArguments,
} from "../../src/index.ts";
import { runTraining } from "./dp-child.ts";

const tmp = () => mkdtemp(join(tmpdir(), "hearth-acc-trainer-"));

// token sequences of equal length following a few arithmetic patterns
const sequences = Array.from({ length: 32 }, (_, i) => ({
  input_ids: Array.from({ length: 12 }, (_, t) => 1 + ((i * 5 + t * (1 + (i % 3))) % 39)),
}));

async function lmRun(mode: { bf16?: boolean; fp16?: boolean }, outputDir: string, steps = 10) {
  manualSeed(11);
  const config = new GPT2Config({
    vocab_size: 40,
    n_positions: 16,
    n_embd: 32,
    n_layer: 2,
    n_head: 2,
    resid_pdrop: 0,
    embd_pdrop: 0,
    attn_pdrop: 0,
  });
  const model = new GPT2LMHeadModel(config);
  const trainer = new Trainer({
    model,
    args: new TrainingArguments({
      outputDir,
      maxSteps: steps,
      perDeviceTrainBatchSize: 8,
      learningRate: 3e-3,
      loggingSteps: 1,
      saveSteps: 5,
      logToConsole: false,
      disableTqdm: true,
      ...mode,
    }),
    trainDataset: sequences,
    dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
  });
  await trainer.train();
  const losses = trainer.state.logHistory.filter((l) => l.loss !== undefined).map((l) => l.loss as number);
  return { trainer, model, losses };
}

test("bf16 from TrainingArguments: the Trainer runs under autocast and follows the fp32 loss curve", async () => {
  const dir = await tmp();
  try {
    const fp32 = await lmRun({}, join(dir, "fp32"));
    const bf16 = await lmRun({ bf16: true }, join(dir, "bf16"));
    assert.equal(fp32.trainer.accelerator.mixedPrecision, "no");
    assert.equal(bf16.trainer.accelerator.mixedPrecision, "bf16");
    assert.equal(fp32.losses.length, 10);
    const gaps = fp32.losses.map((l, i) => Math.abs(l - (bf16.losses[i] as number)));
    console.log(`fp32 ${fp32.losses.map((l) => l.toFixed(4))}\nbf16 ${bf16.losses.map((l) => l.toFixed(4))}`);
    assert.ok(Math.max(...gaps) > 0, "bf16 changed nothing: autocast did not engage");
    assert.ok(Math.max(...gaps) < 0.05, `bf16 strays from fp32: max gap ${Math.max(...gaps)}`);
    assert.ok((bf16.losses.at(-1) as number) < (bf16.losses[0] as number) - 0.3, `bf16 learns: ${bf16.losses}`);
    // master weights stay float32
    assert.deepEqual(new Set(bf16.model.parameters().map((p) => p.dtype)), new Set(["float32"]));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("fp16 from TrainingArguments: the loss scaler's state is checkpointed and restored on resume", async () => {
  const dir = await tmp();
  try {
    const full = await lmRun({ fp16: true }, join(dir, "a"));
    assert.ok(full.trainer.accelerator.scaler, "fp16 has a loss scaler");
    const saved = JSON.parse(readFileSync(join(dir, "a", "checkpoint-5", "scaler.json"), "utf8"));
    assert.equal(typeof saved.scale, "number");
    assert.ok((full.losses.at(-1) as number) < (full.losses[0] as number), `fp16 learns: ${full.losses}`);
    assert.throws(() => new TrainingArguments({ outputDir: dir, bf16: true, fp16: true }), {
      code: "HEARTH_TRAINER_BAD_ARGUMENT",
    });
    // resume from step 5: the scaler comes back and training ends where the full run did
    const resumed = await (async () => {
      manualSeed(11);
      const again = await lmRun({ fp16: true }, join(dir, "b"), 5);
      const t = new Trainer({
        model: again.model,
        args: new TrainingArguments({ ...again.trainer.args, outputDir: join(dir, "a"), maxSteps: 10, saveSteps: 100 }),
        trainDataset: sequences,
        dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
      });
      await t.train({ resumeFromCheckpoint: join(dir, "a", "checkpoint-5") });
      return { t, model: again.model };
    })();
    assert.deepEqual(resumed.t.accelerator.scaler?.stateDict(), full.trainer.accelerator.scaler?.stateDict());
    const a = full.model.parameters().flatMap((p) => [...p.dataSync()]);
    const b = resumed.model.parameters().flatMap((p) => [...p.dataSync()]);
    assert.deepEqual(b, a);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("2 processes (hearth launch, per-device batch 4) end where 1 process with batch 8 ends", {
  timeout: 120_000,
}, async () => {
  const dir = await tmp();
  try {
    let output = "";
    const res = await launch({
      script: join(import.meta.dirname, "dp-child.ts"),
      args: [join(dir, "dp"), "4"],
      numProcesses: 2,
      stdio: "pipe",
      onOutput: (_r, c) => {
        output += c;
      },
    });
    assert.equal(res.code, 0, `workers failed: ${output}`);
    const dp = JSON.parse(readFileSync(join(dir, "dp", "result.json"), "utf8"));
    const one = (await runTraining(join(dir, "one"), 8)).result;
    assert.equal(dp.world, 2);
    assert.equal(one.world, 1);
    assert.equal(dp.globalStep, one.globalStep);
    assert.equal(dp.globalStep, 6); // 5 global batches per epoch, accumulation 2 → 3 updates × 2 epochs
    let maxDiff = 0;
    for (const [name, values] of Object.entries(one.params)) {
      const other = dp.params[name] as number[];
      for (const [i, v] of values.entries()) maxDiff = Math.max(maxDiff, Math.abs(v - (other[i] as number)));
    }
    assert.ok(maxDiff < 1e-5, `max |param difference| ${maxDiff}`);
    assert.equal(dp.losses.length, one.losses.length);
    for (const [i, l] of one.losses.entries()) assert.ok(Math.abs(l - dp.losses[i]) < 1e-5, `loss ${i}`);
    // evaluation: each process took every other batch; gathered metrics cover the 8 examples once
    assert.equal(dp.evals.length, 2);
    for (const [i, e] of one.evals.entries()) {
      assert.equal(dp.evals[i].eval_examples, 8);
      assert.equal(dp.evals[i].eval_accuracy, e.eval_accuracy);
      assert.ok(Math.abs(dp.evals[i].eval_loss - e.eval_loss) < 1e-5);
    }
    // only the main process wrote logs and checkpoints
    assert.deepEqual(
      readdirSync(join(dir, "dp"))
        .filter((n) => n.startsWith("checkpoint-"))
        .sort(),
      ["checkpoint-2", "checkpoint-4", "checkpoint-6"],
    );
    assert.ok(existsSync(join(dir, "dp", "trainer_log.jsonl")));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
