/** Trainer, TrainingArguments and the collators: behaviour on tiny models. */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed } from "@hearth/tensor";
import {
  dataCollatorForLanguageModeling,
  dataCollatorWithPadding,
  EarlyStoppingCallback,
  ErrorCodes,
  ProgressCallback,
  Trainer,
  TrainingArguments,
} from "../../src/index.ts";
import { data, TinyClassifier } from "./tiny-classifier.ts";

const tmp = () => mkdtemp(join(tmpdir(), "hearth-trainer-"));

test("collators pad, build masks, and put -100 on padding for causal LM", () => {
  const lm = dataCollatorForLanguageModeling({ padTokenId: 0 })([{ input_ids: [5, 6, 7] }, { inputIds: [8] }]);
  assert.deepEqual(lm.inputIds.tolistSync(), [
    [5, 6, 7],
    [8, 0, 0],
  ]);
  assert.deepEqual(lm.attentionMask.tolistSync(), [
    [1, 1, 1],
    [1, 0, 0],
  ]);
  assert.deepEqual(lm.labels?.tolistSync(), [
    [5, 6, 7],
    [8, -100, -100],
  ]);
  const left = dataCollatorForLanguageModeling({ padTokenId: 9, paddingSide: "left", padToMultipleOf: 4 })([
    { input_ids: [1, 2] },
  ]);
  assert.deepEqual(left.inputIds.tolistSync(), [[9, 9, 1, 2]]);
  assert.deepEqual(left.labels?.tolistSync(), [[-100, -100, 1, 2]]);
  const cls = dataCollatorWithPadding({ padTokenId: 0 })([
    { input_ids: [4, 4], label: 1 },
    { input_ids: [3], label: 0 },
  ]);
  assert.deepEqual(cls.labels?.tolistSync(), [1, 0]);
  assert.equal(cls.labels?.dtype, "int64");
  assert.deepEqual(cls.attentionMask.tolistSync(), [
    [1, 1],
    [1, 0],
  ]);
  assert.throws(() => dataCollatorWithPadding({ padTokenId: 0 })([{ ids: [1] }]), {
    code: ErrorCodes.TRAINER_BAD_BATCH,
  });
});

test("weight decay skips biases and norm parameters, as Python", async () => {
  const t = new Trainer({
    model: new TinyClassifier(),
    args: new TrainingArguments({ outputDir: await tmp() }),
    dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
  });
  assert.deepEqual([...t.decayParameterNames()], ["head.weight"]);
});

test("training lowers the loss; logs go to trainer_log.jsonl with warm-up and decay of the lr; evaluation reports metrics", async () => {
  manualSeed(0);
  const dir = await tmp();
  try {
    const seen: number[] = [];
    const trainer = new Trainer({
      model: new TinyClassifier(),
      args: new TrainingArguments({
        outputDir: dir,
        numTrainEpochs: 6,
        perDeviceTrainBatchSize: 8,
        learningRate: 0.05,
        warmupSteps: 4,
        loggingSteps: 6,
        evalStrategy: "epoch",
        saveStrategy: "no",
        logToConsole: false,
        disableTqdm: true,
      }),
      trainDataset: data.slice(0, 40),
      evalDataset: data.slice(40),
      dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
      computeMetrics: ({ predictions, labelIds }) => {
        const pred = (predictions as number[][]).map((r) => ((r[1] as number) > (r[0] as number) ? 1 : 0));
        return { accuracy: pred.filter((p, i) => p === labelIds[i]).length / pred.length };
      },
      callbacks: [{ onLog: (_a, _s, _c, logs) => logs.learning_rate !== undefined && seen.push(logs.learning_rate) }],
    });
    const out = await trainer.train();
    assert.equal(out.globalStep, 30);
    const lines = (await readFile(join(dir, "trainer_log.jsonl"), "utf8"))
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const losses = lines.filter((l) => l.loss !== undefined).map((l) => l.loss);
    assert.ok(losses.at(-1) < losses[0], `loss falls: ${losses}`);
    const evals = lines.filter((l) => l.eval_accuracy !== undefined);
    assert.equal(evals.length, 6, "one evaluation per epoch");
    assert.ok(evals.at(-1).eval_accuracy >= 0.75, `accuracy ${evals.at(-1).eval_accuracy}`);
    assert.ok(
      seen[0] !== undefined && seen[0] <= 0.05 && (seen.at(-1) as number) < (seen[1] as number),
      `lr decays: ${seen}`,
    );
    assert.deepEqual(await readdir(dir), ["trainer_log.jsonl"], "saveStrategy no: no checkpoints");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("gradient accumulation 2 × 4 takes the same step as one batch of 8 (no padding, no dropout)", async () => {
  const same = data.filter((d) => d.input_ids.length === 4).slice(0, 8);
  const final = async (bs: number, accum: number) => {
    manualSeed(3);
    const model = new TinyClassifier();
    const t = new Trainer({
      model,
      args: new TrainingArguments({
        outputDir: await tmp(),
        maxSteps: 1,
        perDeviceTrainBatchSize: bs,
        gradientAccumulationSteps: accum,
        learningRate: 0.1,
        maxGradNorm: 0,
        saveStrategy: "no",
        logToConsole: false,
        disableTqdm: true,
        dataSeed: 1,
      }),
      trainDataset: same,
      dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
    });
    await t.train();
    return model.head.weight.dataSync() as Float32Array;
  };
  const a = await final(8, 1);
  const b = await final(4, 2);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs((a[i] as number) - (b[i] as number)) < 1e-5, `weight ${i}: ${a[i]} vs ${b[i]}`);
});

test("early stopping ends training when eval loss stops improving; saveTotalLimit keeps the newest", async () => {
  manualSeed(0);
  const dir = await tmp();
  try {
    const trainer = new Trainer({
      model: new TinyClassifier(),
      args: new TrainingArguments({
        outputDir: dir,
        maxSteps: 500,
        perDeviceTrainBatchSize: 8,
        learningRate: 0.5,
        evalStrategy: "steps",
        evalSteps: 5,
        saveSteps: 5,
        saveTotalLimit: 2,
        loggingSteps: 5,
        logToConsole: false,
        disableTqdm: true,
      }),
      trainDataset: data.slice(0, 40),
      evalDataset: data.slice(40),
      dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
      callbacks: [new EarlyStoppingCallback({ patience: 2, threshold: 1e-3 })],
    });
    const out = await trainer.train();
    assert.ok(out.globalStep < 500, `stopped early at ${out.globalStep}`);
    const cps = (await readdir(dir)).filter((n) => n.startsWith("checkpoint-"));
    assert.equal(cps.length, 2);
    assert.ok(cps.includes(`checkpoint-${out.globalStep - (out.globalStep % 5)}`));
    const state = JSON.parse(await readFile(join(dir, cps.sort().at(-1) as string, "trainer_state.json"), "utf8"));
    assert.ok(state.stateful_callbacks.EarlyStoppingCallback.patienceCounter >= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bad arguments are coded errors", async () => {
  assert.throws(() => new TrainingArguments({ outputDir: "" }), { code: ErrorCodes.TRAINER_BAD_ARGUMENT });
  assert.throws(() => new TrainingArguments({ outputDir: "x", perDeviceTrainBatchSize: 0 }), {
    code: ErrorCodes.TRAINER_BAD_ARGUMENT,
  });
  assert.throws(() => new TrainingArguments({ outputDir: "x", lrSchedulerType: "poly" as "linear" }), {
    code: ErrorCodes.TRAINER_BAD_ARGUMENT,
  });
  const t = new Trainer({
    model: new TinyClassifier(),
    args: new TrainingArguments({ outputDir: await tmp(), logToConsole: false }),
    dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
  });
  await assert.rejects(t.train(), { code: ErrorCodes.TRAINER_BAD_ARGUMENT });
  await assert.rejects(t.train({ resumeFromCheckpoint: "/nonexistent/checkpoint-3" }), {
    code: ErrorCodes.TRAINER_BAD_ARGUMENT,
  });
  const lm = new Trainer({
    model: new TinyClassifier(),
    args: new TrainingArguments({ outputDir: await tmp(), logToConsole: false }),
    trainDataset: [{ input_ids: [1, 2] }],
    dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
  });
  await assert.rejects(lm.train(), { code: ErrorCodes.TRAINER_BAD_BATCH });
  await assert.rejects(lm.train({ resumeFromCheckpoint: "/nonexistent/checkpoint-3" }), {
    code: ErrorCodes.TRAINER_CHECKPOINT,
  });
});

test("the progress bar shows steps, elapsed time, ETA and rate", () => {
  const p = new ProgressCallback();
  const args = new TrainingArguments({ outputDir: "x" });
  const state = {
    globalStep: 0,
    maxSteps: 100,
    epoch: 0,
    numTrainEpochs: 1,
    logHistory: [],
    bestMetric: null,
    bestModelCheckpoint: null,
    statefulCallbacks: {},
  };
  p.onTrainBegin(args, state);
  state.globalStep = 37;
  p.onLog(args, state, { shouldTrainingStop: false }, { loss: 2.5 });
  assert.match(p.render(state), /^ 37%\|█+ +\| 37\/100 \[\d\d:\d\d<\d\d:\d\d, [\d.]+it\/s\] loss 2\.5000$/);
});
