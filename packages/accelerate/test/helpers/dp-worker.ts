/** One replica of the data-parallel test: `hearth launch --num-processes 2 dp-worker.ts <out-dir>`. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "@hearth/tensor";
import { Accelerator } from "../../src/index.ts";
import { train } from "./dp-train.ts";

const out = process.argv[2] as string;
const acc = new Accelerator({ splitBatches: true, gradientAccumulationSteps: 2 });
const { model, gathered } = await train(acc);
if (acc.isMainProcess) {
  await saveModel(model, join(out, "model.safetensors"));
  writeFileSync(join(out, "gathered.json"), JSON.stringify({ gathered, world: acc.numProcesses }));
}
await acc.endTraining();
