// The two engine pieces accelerate builds on: the meta device (shapes without memory) and
// autocast (matmuls in a 16-bit dtype, float32 in and out, gradients back to float32).
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  arange,
  autocast,
  autocastDtype,
  LayerNorm,
  Linear,
  manualSeed,
  matmul,
  onMetaDevice,
  randn,
  tensor,
} from "../src/index.ts";

test("onMetaDevice builds modules without memory; reading meta data is a coded error", () => {
  const fc = onMetaDevice(() => new Linear(4096, 4096));
  assert.equal(fc.weight.device, "meta");
  assert.deepEqual(fc.weight.shape, [4096, 4096]);
  assert.equal(fc.weight.storage.data.byteLength, 0);
  assert.throws(() => fc.weight.dataSync(), { code: "HEARTH_TENSOR_META" });
  const [ln, r, t] = onMetaDevice(() => [new LayerNorm([8]), arange(5), tensor([1, 2, 3])] as const);
  assert.deepEqual([ln.weight?.device, r.device, t.device], ["meta", "meta", "meta"]);
  assert.deepEqual(t.shape, [3]);
  assert.equal(new Linear(2, 2).weight.device, "cpu"); // off again outside
});

test("autocast: float32 in, float32 out, bf16-rounded product, float32 gradients", () => {
  manualSeed(3);
  const a = randn([8, 16]).requiresGrad_();
  const b = randn([16, 4]).requiresGrad_();
  const exact = matmul(a, b).dataSync();
  const low = autocast("bfloat16", () => {
    assert.equal(autocastDtype(), "bfloat16");
    return matmul(a, b);
  });
  assert.equal(autocastDtype(), null);
  assert.equal(low.dtype, "float32");
  const got = low.dataSync();
  let maxRel = 0;
  let differs = false;
  for (let i = 0; i < got.length; i++) {
    const e = exact[i] as number;
    const g = got[i] as number;
    if (e !== g) differs = true;
    maxRel = Math.max(maxRel, Math.abs(g - e) / (Math.abs(e) + 1));
  }
  assert.ok(differs, "autocast changed nothing");
  assert.ok(maxRel < 0.03, `bf16 product too far from float32: ${maxRel}`);
  low.sum().backward();
  assert.equal(a.grad?.dtype, "float32");
  assert.equal(b.grad?.dtype, "float32");
  assert.throws(() => autocast("int32", () => 0), { code: "HEARTH_TENSOR_DTYPE" });
});
