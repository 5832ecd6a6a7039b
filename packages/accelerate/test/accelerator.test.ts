import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { AdamW, getLinearSchedule, Linear, manualSeed, mseLoss, randn, SGD, type Tensor } from "@hearth/tensor";
import { Accelerator, type Transport } from "../src/index.ts";

const flat = (ts: Tensor[]) => ts.flatMap((t) => [...t.dataSync()].map(Number));

function data(n: number): [Tensor, Tensor] {
  manualSeed(42);
  return [randn([n, 4]), randn([n, 2])];
}

test("gradient accumulation over 2 micro-batches equals one step on the whole batch", async () => {
  const [x, y] = data(8);
  manualSeed(1);
  const ref = new Linear(4, 2);
  const refOpt = new SGD(ref.parameters(), { lr: 0.1 });
  mseLoss(ref.forward(x), y).backward();
  refOpt.step();

  manualSeed(1);
  const net = new Linear(4, 2);
  const acc = new Accelerator({ gradientAccumulationSteps: 2 });
  const micro = [
    [x.narrow(0, 0, 4), y.narrow(0, 0, 4)],
    [x.narrow(0, 4, 4), y.narrow(0, 4, 4)],
  ];
  const [model, opt, loader] = await acc.prepare(net, new SGD(net.parameters(), { lr: 0.1 }), micro);
  const syncs: boolean[] = [];
  for (const [xb, yb] of loader) {
    await acc.accumulate(model, async () => {
      syncs.push(acc.syncGradients);
      await acc.backward(mseLoss(model.forward(xb as Tensor), yb as Tensor));
      opt.step();
      opt.zeroGrad();
    });
  }
  assert.deepEqual(syncs, [false, true]);
  const a = flat(ref.parameters());
  const b = flat(net.parameters());
  for (const [i, v] of a.entries()) assert.ok(Math.abs(v - (b[i] as number)) < 1e-6, `param ${i}: ${v} vs ${b[i]}`);
});

test("fp16: overflowing steps are skipped (weights untouched, scale backs off), then training proceeds", async () => {
  const [x, y] = data(16);
  manualSeed(2);
  const net = new Linear(4, 2);
  const acc = new Accelerator({ mixedPrecision: "fp16", gradScaler: { initScale: 2 ** 40 } });
  const [model, opt] = await acc.prepare(net, new SGD(net.parameters(), { lr: 0.05 }));
  const start = flat(net.parameters());
  const skipped: boolean[] = [];
  const losses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const loss = mseLoss(model.forward(x), y);
    losses.push(loss.item());
    await acc.backward(loss);
    opt.step();
    skipped.push(opt.stepWasSkipped);
    opt.zeroGrad();
    if (i === 0) assert.deepEqual(flat(net.parameters()), start);
  }
  assert.equal(skipped[0], true);
  assert.ok(skipped.includes(false), "no step ever ran");
  assert.ok((acc.scaler?.scale as number) < 2 ** 40);
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `loss did not fall: ${losses}`);
  assert.deepEqual(new Set(net.parameters().map((p) => p.dtype)), new Set(["float32"]));
});

async function setup(seed: number) {
  manualSeed(seed);
  const net = new Linear(4, 2);
  const acc = new Accelerator({ mixedPrecision: "bf16" });
  const optimizer = new AdamW(net.parameters(), { lr: 0.01 });
  const [model, opt, sched] = await acc.prepare(net, optimizer, getLinearSchedule(optimizer, 1, 10));
  const step = async () => {
    const [x, y] = data(8);
    await acc.backward(mseLoss(model.forward(x), y));
    opt.step();
    sched.step();
    opt.zeroGrad();
  };
  return { acc, net, step };
}

test("saveState/loadState resume training exactly; saving replaces the folder atomically", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-acc-state-"));
  try {
    const first = await setup(3);
    await first.step();
    await first.step();
    await first.acc.saveState(join(dir, "ckpt"));
    await first.step(); // move on, then save again over the same folder
    await first.acc.saveState(join(dir, "ckpt"));
    assert.deepEqual(readdirSync(dir), ["ckpt"]); // no temporary folders left behind
    await first.step();
    await first.step();

    const second = await setup(77);
    await second.acc.loadState(join(dir, "ckpt"));
    await second.step();
    await second.step();
    assert.deepEqual(flat(second.net.parameters()), flat(first.net.parameters()));

    await assert.rejects(second.acc.loadState(join(dir, "missing")), { code: "HEARTH_ACCELERATE_STATE" });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("single process: main process, gather is the identity, bad options and objects are coded errors", async () => {
  const acc = new Accelerator();
  assert.equal(acc.isMainProcess, true);
  assert.equal(acc.numProcesses, 1);
  assert.equal(acc.device.name, "cpu");
  const t = randn([3, 2]);
  assert.equal(await acc.gather(t), t);
  assert.throws(() => new Accelerator({ mixedPrecision: "int8" as never }), { code: "HEARTH_ACCELERATE_ARGUMENT" });
  assert.throws(() => new Accelerator({ gradientAccumulationSteps: 0 }), { code: "HEARTH_ACCELERATE_ARGUMENT" });
  await assert.rejects(acc.prepare(42 as never), { code: "HEARTH_ACCELERATE_PREPARE" });
});

test("gradients are all-reduced in the transport's own buffer when it offers one (no copy in or out)", async () => {
  // a 2-rank transport whose peer contributes gradients of 1: the average is (g + 1) / 2. With
  // 2 ranks the Accelerator copies its gradients in already halved and asks for a plain sum
  // (scale 1), so the peer's contribution arrives halved too.
  const own = new Float32Array(64);
  const reduced: Float32Array[] = [];
  const scales: number[] = [];
  const transport: Transport = {
    rank: 0,
    worldSize: 2,
    allReduceBuffer: (n) => own.subarray(0, n),
    async allReduceSum(data, scale = 1) {
      reduced.push(data);
      scales.push(scale);
      const peer = scale === 1 ? 0.5 : 1;
      for (let i = 0; i < data.length; i++) data[i] = ((data[i] as number) + peer) * scale;
    },
    async allGather(data) {
      return [data, data];
    },
    async broadcast() {},
    async barrier() {},
    async close() {},
  };
  const [x, y] = data(4);
  manualSeed(1);
  const net = new Linear(4, 2);
  const acc = new Accelerator({ transport });
  const [model] = await acc.prepare(net);
  await acc.backward(mseLoss(model.forward(x), y));
  assert.ok(net.weight.grad);
  const w = net.weight.grad.dataSync() as Float32Array;
  manualSeed(1);
  const ref = new Linear(4, 2);
  mseLoss(ref.forward(x), y).backward();
  assert.ok(ref.weight.grad);
  const expected = [...(ref.weight.grad.dataSync() as Float32Array)].map((g) => Math.fround((g + 1) * 0.5));
  assert.deepEqual([...w], expected);
  assert.equal(reduced.length, 1);
  assert.deepEqual(scales, [1]);
  assert.equal(reduced[0]?.buffer, own.buffer); // the transport's buffer itself
  assert.equal(reduced[0]?.length, 10); // 4·2 weights + 2 biases
  // the averaged gradients are views of that buffer (no copy out), weight then bias
  assert.equal(net.weight.grad.storage.data.buffer, own.buffer);
  const biasGrad = net.bias?.grad;
  assert.ok(biasGrad);
  assert.deepEqual([...(biasGrad.dataSync() as Float32Array)], [...own.subarray(8, 10)]);
  own[8] = 42;
  assert.equal((biasGrad.dataSync() as Float32Array)[0], 42);
});

/** The values of `p`'s gradient (which must exist). */
function gradValues(p: Tensor): number[] {
  assert.ok(p.grad, "a gradient");
  return [...(p.grad.dataSync() as Float32Array)];
}

/** A fake transport of `world` ranks whose peers each contribute `peer` to every element. */
function fakeTransport(world: number, peer: (scale: number) => number, scales: number[]): Transport {
  const own = new Float32Array(64);
  return {
    rank: 0,
    worldSize: world,
    allReduceBuffer: (n) => own.subarray(0, n),
    async allReduceSum(data, scale = 1) {
      scales.push(scale);
      for (let i = 0; i < data.length; i++) data[i] = Math.fround(((data[i] as number) + peer(scale)) * scale);
    },
    async allGather(data) {
      return Array.from({ length: world }, () => data);
    },
    async broadcast() {},
    async barrier() {},
    async close() {},
  };
}

test("a gradient accumulated into its all-reduce view without zeroGrad is averaged where it lies", async () => {
  // 2 ranks: gradients go in halved (scale 1); the peer's gradient of 1 arrives halved
  const scales: number[] = [];
  const acc = new Accelerator({ transport: fakeTransport(2, () => 0.5, scales) });
  const [x, y] = data(4);
  manualSeed(1);
  const net = new Linear(4, 2);
  const [model] = await acc.prepare(net);
  await acc.backward(mseLoss(model.forward(x), y));
  const first = gradValues(net.weight);
  const view = net.weight.grad;
  // no zeroGrad: the second backward adds into the view in place, which is then averaged again
  await acc.backward(mseLoss(model.forward(x), y));
  assert.equal(net.weight.grad, view, "the same view, not a copy");
  manualSeed(1);
  const ref = new Linear(4, 2);
  mseLoss(ref.forward(x), y).backward();
  const g = gradValues(ref.weight);
  const expected = first.map((f, i) => Math.fround(Math.fround(Math.fround(f + (g[i] as number)) * 0.5) + 0.5));
  assert.deepEqual(gradValues(net.weight), expected);
  assert.deepEqual(scales, [1, 1]);
});

test("with 3 processes (not a power of two) the transport averages: gradients go in unscaled", async () => {
  const scales: number[] = [];
  const acc = new Accelerator({ transport: fakeTransport(3, () => 2, scales) });
  const [x, y] = data(4);
  manualSeed(1);
  const net = new Linear(4, 2);
  const [model] = await acc.prepare(net);
  await acc.backward(mseLoss(model.forward(x), y));
  manualSeed(1);
  const ref = new Linear(4, 2);
  mseLoss(ref.forward(x), y).backward();
  const expected = gradValues(ref.weight).map((g) => Math.fround((g + 2) * (1 / 3)));
  assert.deepEqual(gradValues(net.weight), expected);
  assert.deepEqual(scales, [1 / 3]);
});
