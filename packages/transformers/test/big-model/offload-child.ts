/**
 * Child process of the device-map test: `offload-child.ts <modelDir> <deviceMap JSON> <capBytes>`
 * loads the model with `AutoModelForCausalLM.fromPretrained` with the device map under the cap,
 * generates greedily, and prints the tokens, the device map and how much anonymous
 * (process-private) resident memory grew by the end of loading and at its peak while generating.
 */
import { readFileSync } from "node:fs";
import { tensor } from "@hearth/tensor";
import { AutoModelForCausalLM } from "../../src/index.ts";

const [dir, mapArg, cap] = process.argv.slice(2) as [string, string, string];
const rssAnon = () => Number(/RssAnon:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]) * 1024;
globalThis.gc?.();
const before = rssAnon();
let peak = before;
const sample = () => {
  globalThis.gc?.();
  peak = Math.max(peak, rssAnon());
};
const model = await AutoModelForCausalLM.fromPretrained(dir, {
  deviceMap: JSON.parse(mapArg) as "auto" | Record<string, string>,
  maxMemory: { cpu: Number(cap) },
});
sample();
const loadGrowth = peak - before; // what loading left in the process's own memory
const ids = tensor([[3, 14, 15, 92, 65]], { dtype: "int64" });
const out = await model.generate(ids, { maxNewTokens: 8, doSample: false });
sample();
console.log(
  JSON.stringify({ tokens: out.tolistSync(), loadGrowth, growth: peak - before, deviceMap: model.hfDeviceMap }),
);
