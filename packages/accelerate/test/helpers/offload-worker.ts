/**
 * Child process of the disk-offload test: builds the model on the meta device, dispatches the
 * checkpoint under a memory cap, generates, and reports the tokens, the logits of one forward
 * and how much anonymous (process-private) memory grew (and the packed weights' share of it), then
 * grew again over batched forwards:
 * `offload-worker.ts <ckpt> <cap> <config>`.
 */
import { readFileSync } from "node:fs";
import { noGrad, packedWeightBytes, tensor } from "@hearth/tensor";
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
const growth = peak - before;
// packings the cpu backend keeps of resident weights (products of 5-8 rows read them packed on
// families with a few-row panel form, gemvPackedRows())
const packedBytes = packedWeightBytes();
// A batch of 4 (20 rows a product): the cpu backend packs resident weights for reuse, but must
// make no such copy of the offloaded views, which are paged in again on every call.
const beforeBatches = rssAnon();
peak = beforeBatches;
const batch = tensor(
  Int32Array.from({ length: 20 }, (_, j) => j % 7),
  { shape: [4, 5] },
).to("int64");
for (let i = 0; i < 3; i++) {
  noGrad(() => model.forward(batch));
  sample();
}
console.log(
  JSON.stringify({
    tokens,
    logits: [...logits.dataSync()],
    growth,
    packedBytes,
    batchGrowth: peak - beforeBatches,
    metaGrowth,
    deviceMap: result.deviceMap,
    residentBytes: result.residentBytes,
    offloadedBytes: result.offloadedBytes,
  }),
);
