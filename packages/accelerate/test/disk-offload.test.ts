// Big-model inference: a generated model whose weights are 3x a memory cap runs with disk
// offload. The model is built on the meta device, the device map keeps a third in memory and
// leaves the rest in the memory-mapped safetensors file, paged in per forward. A child process
// measures its anonymous resident memory (RssAnon: what the process itself holds, as opposed to
// file pages the kernel can drop) and generates the same tokens as the in-memory model.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { manualSeed, noGrad, saveModel, tensor } from "@hearth/tensor";
import { computeModuleSizes, inferAutoDeviceMap } from "../src/index.ts";
import { greedy, TinyGpt } from "./helpers/tiny-gpt.ts";

const config = { vocab: 64, ctx: 16, width: 256, heads: 4, layers: 8 };

function runWorker(ckpt: string, cap: number) {
  const out = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--import",
      "tsx",
      join(import.meta.dirname, "helpers", "offload-worker.ts"),
      ckpt,
      String(cap),
      JSON.stringify(config),
    ],
    { encoding: "utf8" },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

test("a model 3x the memory cap generates correctly with disk offload, holding about the cap", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-offload-"));
  try {
    manualSeed(5);
    const model = new TinyGpt(config);
    const total = computeModuleSizes(model).get("") as number;
    const cap = Math.floor(total / 3);
    const ckpt = join(dir, "model.safetensors");
    await saveModel(model, ckpt);
    const expectedTokens = greedy(model, [1, 2, 3, 4], 6);
    const expectedLogits = noGrad(() =>
      model.forward(tensor(Int32Array.from([5, 6, 7, 8, 9]), { shape: [1, 5] }).to("int64")),
    ).dataSync();

    const off = runWorker(ckpt, cap);
    const full = runWorker(ckpt, total * 2);
    const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    t.diagnostic(
      `weights ${mb(total)}, cap ${mb(cap)}; offload: ${mb(off.residentBytes)} in memory, ${mb(off.offloadedBytes)} on disk, RssAnon +${mb(off.growth)} (${mb(off.packedBytes)} packed); all in memory: RssAnon +${mb(full.growth)}`,
    );
    assert.deepEqual(off.tokens, expectedTokens);
    let maxDiff = 0;
    off.logits.forEach((v: number, i: number) => {
      maxDiff = Math.max(maxDiff, Math.abs(v - (expectedLogits[i] as number)));
    });
    assert.ok(maxDiff < 1e-4, `logits differ by ${maxDiff}`);
    assert.ok(off.metaGrowth < total / 10, `the meta model took ${mb(off.metaGrowth)}`);
    assert.ok(off.residentBytes <= cap);
    assert.ok(off.offloadedBytes >= total / 2);
    assert.ok(Object.values(off.deviceMap).includes("disk"));
    // the measure can tell: loading everything grows by about the model, offloading by about the
    // cap. The loads first reuse heap that start-up freed, which RssAnon already counted: loading
    // all 24.2 MiB in memory has shown growths of 19.3 to 26.1 MiB.
    assert.ok(full.growth > 0.6 * total, `all-in-memory grew only ${mb(full.growth)}`);
    // The generation's products of 5-8 rows may read resident weights from packed copies (the
    // cpu backend's few-row panel form, where the CPU has one): on top of the cap, and never of
    // the offloaded weights.
    assert.ok(off.packedBytes <= 1.05 * off.residentBytes, `${mb(off.packedBytes)} of packed weights`);
    assert.ok(
      off.growth < cap + off.packedBytes + total / 6,
      `offloaded run grew ${mb(off.growth)} for a cap of ${mb(cap)} and ${mb(off.packedBytes)} of packed weights`,
    );
    // batched forwards may pack the resident weights, but copies of the offloaded ones would
    // take more than all their bytes
    assert.ok(
      off.batchGrowth < off.residentBytes + off.offloadedBytes / 2,
      `batched forwards grew ${mb(off.batchGrowth)} with ${mb(off.residentBytes)} resident`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("inferAutoDeviceMap fills devices in order, splits non-block modules, keeps blocks whole", () => {
  const model = new TinyGpt({ vocab: 16, ctx: 8, width: 16, heads: 2, layers: 4 });
  const sizes = computeModuleSizes(model);
  const block = sizes.get("h.0") as number;
  const emb = (sizes.get("wte") as number) + (sizes.get("wpe") as number);
  const map = inferAutoDeviceMap(model, { maxMemory: { cpu: emb + 2 * block + 10 }, noSplitModuleClasses: ["Block"] });
  assert.deepEqual(map, {
    wte: "cpu",
    wpe: "cpu",
    "h.0": "cpu",
    "h.1": "cpu",
    "h.2": "disk",
    "h.3": "disk",
    ln_f: "disk",
    lm_head: "disk",
  });
  assert.throws(() => inferAutoDeviceMap(model, { maxMemory: { cpu: "lots" } }), {
    code: "HEARTH_ACCELERATE_DEVICE_MAP",
  });
});
