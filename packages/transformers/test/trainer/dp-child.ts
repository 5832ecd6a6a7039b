/**
 * The Trainer run of the data-parallel test, as one process or as one of several under
 * `hearth launch`: TinyClassifier, 2 epochs, gradient accumulation 2, clipping, evaluation with
 * accuracy, a checkpoint every 2 steps. The main process writes `result.json`.
 *
 * argv: outputDir perDeviceTrainBatchSize
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { manualSeed } from "@hearth/tensor";
import { dataCollatorWithPadding, Trainer, TrainingArguments } from "../../src/index.ts";
import { data, TinyClassifier } from "./tiny-classifier.ts";

// equal lengths: TinyClassifier counts padding in its features, so ragged batches would make
// a batch of 8 differ from two batches of 4
const examples = data.map(({ input_ids }) => {
  const ids = input_ids.slice(0, 4);
  return { input_ids: ids, label: ids.filter((v) => v === 3).length > ids.filter((v) => v === 5).length ? 1 : 0 };
});

/** Trains and returns what the test compares. */
export async function runTraining(outputDir: string, batchSize: number) {
  manualSeed(5 + Number(process.env.HEARTH_RANK ?? 0)); // replicas start apart: prepare() must align them
  const model = new TinyClassifier();
  const trainer = new Trainer({
    model,
    args: new TrainingArguments({
      outputDir,
      numTrainEpochs: 2,
      perDeviceTrainBatchSize: batchSize,
      perDeviceEvalBatchSize: 3,
      gradientAccumulationSteps: 2,
      learningRate: 0.05,
      loggingSteps: 1,
      evalStrategy: "epoch",
      saveSteps: 2,
      logToConsole: false,
      disableTqdm: true,
    }),
    trainDataset: examples.slice(0, 40),
    evalDataset: examples.slice(40),
    dataCollator: dataCollatorWithPadding({ padTokenId: 0 }),
    computeMetrics: ({ predictions, labelIds }) => {
      const pred = (predictions as number[][]).map((r) => ((r[1] as number) > (r[0] as number) ? 1 : 0));
      return { accuracy: pred.filter((p, i) => p === labelIds[i]).length / pred.length, examples: pred.length };
    },
  });
  const out = await trainer.train();
  return {
    trainer,
    result: {
      world: trainer.accelerator.numProcesses,
      globalStep: out.globalStep,
      trainingLoss: out.trainingLoss,
      losses: trainer.state.logHistory.filter((l) => l.loss !== undefined).map((l) => l.loss),
      evals: trainer.state.logHistory.filter((l) => l.eval_loss !== undefined),
      params: Object.fromEntries(model.namedParameters().map(([n, p]) => [n, [...p.dataSync()].map(Number)])),
    },
  };
}

if (process.env.HEARTH_RANK !== undefined) {
  const [outputDir = "out", bs = "4"] = process.argv.slice(2);
  const { trainer, result } = await runTraining(outputDir, Number(bs));
  if (trainer.accelerator.isMainProcess) writeFileSync(join(outputDir, "result.json"), JSON.stringify(result));
  await trainer.accelerator.endTraining();
}
