/**
 * Child process of the disk-offload test: builds the model on the meta device, dispatches the
 * checkpoint under a memory cap, generates, and reports the tokens, the logits of one forward
 * and how much anonymous (process-private) memory grew: `offload-worker.ts <ckpt> <cap> <config>`.
 */
import { readFileSync } from "node:fs";
import { noGrad, tensor } from "@hearth/tensor";
import { initEmptyWeights, loadCheckpointAndDispatch } from "../../src/index.ts";
import { greedy, TinyGpt } from "./tiny-gpt.ts";

const [ckpt, capArg, configJson] = process.argv.slice(2) as [string, string, string];
const config = JSON.parse(configJson);
const rssAnon = () => {
  const m = /RssAnon:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
  return Number(m?.[1]) * 1024;
};
globalThis.gc?.();
const before = rssAnon();
let peak = before;
const sample = () => {
  globalThis.gc?.();
  peak = Math.max(peak, rssAnon());
};
const model = initEmptyWeights(() => new TinyGpt(config));
sample();
const metaGrowth = peak - before;
const result = await loadCheckpointAndDispatch(model, ckpt, {
  maxMemory: { cpu: Number(capArg) },
  noSplitModuleClasses: ["Block"],
});
sample();
const tokens = greedy(model, [1, 2, 3, 4], 6, sample);
const logits = noGrad(() => model.forward(tensor(Int32Array.from([5, 6, 7, 8, 9]), { shape: [1, 5] }).to("int64")));
sample();
console.log(
  JSON.stringify({
    tokens,
    logits: [...logits.dataSync()],
    growth: peak - before,
    metaGrowth,
    deviceMap: result.deviceMap,
    residentBytes: result.residentBytes,
    offloadedBytes: result.offloadedBytes,
  }),
);
