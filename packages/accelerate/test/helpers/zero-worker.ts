/**
 * One replica of the ZeRO-1 tests: `hearth launch --num-processes 2 zero-worker.ts <dir> <mode>`.
 *   train:  trains with a sharded optimiser, saves the state after the first optimiser step
 *           (2 micro-batches) in <dir>/ckpt, the final model in <dir>/model.safetensors and
 *           which parameters' optimiser state each rank holds in <dir>/state-<mode>-<rank>.json;
 *   resume: loads <dir>/ckpt and trains on from there, saving <dir>/resumed.safetensors;
 *   die:    rank 1 exits with status 7 after the 3rd micro-batch, in the middle of an
 *           accumulated step (rank 0 must then fail with a clear error, not hang).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { saveModel } from "@hearth/tensor";
import { Accelerator } from "../../src/index.ts";
import { train } from "./dp-train.ts";

const [out, mode] = process.argv.slice(2) as [string, "train" | "resume" | "die"];
const acc = new Accelerator({ splitBatches: true, gradientAccumulationSteps: 2, zeroStage: 1 });
const ckpt = join(out, "ckpt");
const { model } = await train(acc, {
  from: mode === "resume" ? 2 : 0,
  resume: mode === "resume" ? ckpt : undefined,
  each: async (n) => {
    if (mode === "train" && n === 2) await acc.saveState(ckpt);
    if (mode === "die" && n === 3 && acc.processIndex === 1) process.exit(7);
  },
});
const opt = acc.optimizers[0];
const params = model.parameters();
const owned = params.flatMap((p, i) => (opt?.optimizer.state.has(p) ? [i] : []));
const sizes = params.map((p) => p.size);
writeFileSync(join(out, `state-${mode}-${acc.processIndex}.json`), JSON.stringify({ owned, sizes }));
if (acc.isMainProcess)
  await saveModel(model, join(out, mode === "resume" ? "resumed.safetensors" : "model.safetensors"));
await acc.endTraining();
