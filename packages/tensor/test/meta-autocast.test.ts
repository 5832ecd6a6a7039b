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
  linear,
  manualSeed,
  matmul,
  mul,
  noGrad,
  onMetaDevice,
  randn,
  sum,
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

test("autocast backward: both gradient GEMMs take bf16 operands and keep float32 results", () => {
  manualSeed(4);
  const x = randn([6, 40]).requiresGrad_();
  const w = randn([24, 40]).requiresGrad_(); // Linear's layout: y = x·wᵀ
  const r = randn([6, 24]); // dL/dy, not representable in bf16
  autocast("bfloat16", () => sum(mul(linear(x, w), r))).backward();
  // reference: the same products in float32 on the bf16-rounded operands
  const [dx, dw] = noGrad(() => {
    const round = (t: typeof x) => t.to("bfloat16").to("float32");
    const g = round(r);
    return [matmul(g, round(w)).dataSync(), matmul(g.transpose(0, 1), round(x)).dataSync()];
  });
  for (const [name, got, want] of [
    ["x", x.grad?.dataSync(), dx],
    ["w", w.grad?.dataSync(), dw],
  ] as const) {
    assert.ok(got, `${name} has no gradient`);
    let maxRel = 0;
    let unrounded = false; // a gradient rounded to bf16 has its low 16 bits zero
    const bits = new Uint32Array(Float32Array.from(got as Float32Array).buffer);
    for (let i = 0; i < got.length; i++) {
      maxRel = Math.max(
        maxRel,
        Math.abs((got[i] as number) - (want[i] as number)) / (Math.abs(want[i] as number) + 1e-3),
      );
      if (((bits[i] as number) & 0xffff) !== 0) unrounded = true;
    }
    assert.ok(maxRel < 1e-4, `d${name} differs from the float32-accumulated bf16 product: ${maxRel}`);
    assert.ok(unrounded, `d${name} was rounded to bf16`);
  }
});
