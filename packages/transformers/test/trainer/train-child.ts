/**
 * A small, complete training run used by the resume tests: a 1-layer GPT-2 from scratch (with
 * dropout) on synthetic token sequences, checkpoints every 3 steps. Writes `result.json` with
 * the final losses and a checksum of every parameter when it finishes.
 *
 * argv: outputDir [resume]; env HEARTH_STEP_DELAY_MS slows each step (so a test can kill it).
 */
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { manualSeed } from "@hearth/tensor";
import {
  dataCollatorForLanguageModeling,
  EarlyStoppingCallback,
  GPT2Config,
  GPT2LMHeadModel,
  Trainer,
  TrainingArguments,
} from "../../src/index.ts";

const [outputDir = "out", resume] = process.argv.slice(2);
const delay = Number(process.env.HEARTH_STEP_DELAY_MS ?? 0);

manualSeed(0);
const model = new GPT2LMHeadModel(
  new GPT2Config({
    vocab_size: 50,
    n_positions: 32,
    n_embd: 32,
    n_layer: 1,
    n_head: 2,
    resid_pdrop: 0.1,
    embd_pdrop: 0.1,
    attn_pdrop: 0.1,
  }),
);
// sequences of a few interleaved arithmetic patterns, with ragged lengths (so padding occurs)
const examples = Array.from({ length: 40 }, (_, i) => ({
  input_ids: Array.from({ length: 10 + (i % 5) }, (_, t) => 1 + ((i * 7 + t * (1 + (i % 3))) % 49)),
}));
const args = new TrainingArguments({
  outputDir,
  maxSteps: 12,
  perDeviceTrainBatchSize: 4,
  perDeviceEvalBatchSize: 8,
  gradientAccumulationSteps: 2,
  learningRate: 3e-3,
  weightDecay: 0.01,
  warmupSteps: 2,
  lrSchedulerType: "cosine",
  loggingSteps: 3,
  evalStrategy: "steps",
  evalSteps: 6,
  saveSteps: 3,
  saveTotalLimit: 2,
  seed: 7,
  logToConsole: false,
  disableTqdm: true,
});
const trainer = new Trainer({
  model,
  args,
  trainDataset: examples.slice(0, 32),
  evalDataset: examples.slice(32),
  dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
  callbacks: [
    new EarlyStoppingCallback({ patience: 100 }),
    {
      onStepEnd() {
        if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
      },
    },
  ],
});
const out = await trainer.train({ resumeFromCheckpoint: resume === "resume" });
const evalMetrics = await trainer.evaluate();
const hash = createHash("sha256");
for (const [name, p] of model.namedParameters()) hash.update(name).update(p.contiguous().bytes());
const losses = trainer.state.logHistory.filter((l) => l.loss !== undefined).map((l) => [l.step, l.loss]);
writeFileSync(
  join(outputDir, "result.json"),
  JSON.stringify({
    trainingLoss: out.trainingLoss,
    evalLoss: evalMetrics.eval_loss,
    params: hash.digest("hex"),
    losses,
    globalStep: out.globalStep,
  }),
);
