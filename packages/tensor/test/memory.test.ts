// A training loop of 1,000 steps must not grow memory: with `scope()` around each step every
// temporary storage is released (an exact count), and the process's resident size stays flat.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  AdamW,
  crossEntropy,
  Linear,
  liveStorages,
  type Module,
  manualSeed,
  ReLU,
  randint,
  randn,
  Sequential,
  scope,
} from "../src/index.ts";
import { residentBytes } from "../src/native/index.ts";

test("1,000 training steps keep live storages constant and resident memory flat", () => {
  manualSeed(0);
  const model: Module = new Sequential(new Linear(16, 64), new ReLU(), new Linear(64, 4));
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const x = randn([32, 16]);
  const y = randint(0, 4, [32]);
  const step = () =>
    scope(() => {
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
  let first = 0;
  let last = 0;
  const live: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < 1000; i++) {
    const l = step();
    if (i === 0) first = l;
    last = l;
    if (i === 10 || i === 999) live.push(liveStorages());
    if (i === 100 || i === 999) rss.push(residentBytes());
  }
  console.log(`live storages ${live.join(" -> ")}, rss ${rss.map((r) => (r / 2 ** 20).toFixed(1)).join(" -> ")} MiB`);
  assert.equal(live[0], live[1], "no storage outlives its step");
  const growth = (rss[1] as number) - (rss[0] as number);
  assert.ok(growth < 32 * 2 ** 20, `resident size grew by ${(growth / 2 ** 20).toFixed(1)} MiB over 900 steps`);
  assert.ok(last < first, `the loop trains (loss ${first} -> ${last})`);
});
