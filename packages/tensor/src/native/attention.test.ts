// The addon's fused attention forward against the engine's composite scaledDotProductAttention
// on the `js` reference backend: causal with fewer queries than keys, grouped-query heads, key
// padding masks, several key blocks, and fully masked queries.
import assert from "node:assert/strict";
import { test } from "node:test";
import { manualSeed, randn, reshape, scaledDotProductAttention, type Tensor, tensor, withBackend } from "../index.ts";
import { native } from "./index.ts";

if (!native) throw new Error("attention.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
const data = (t: Tensor) => Float32Array.from(t.dataSync() as Float32Array);

test("fused attention and its backward match the composite and autograd (causal, GQA, padding, long keys)", () => {
  withBackend("js", () => {
    manualSeed(21);
    for (const [B, H, G, T, S, D, E, causal, pad] of [
      [1, 2, 2, 5, 5, 8, 8, false, false],
      [2, 4, 2, 7, 150, 16, 12, true, false],
      [2, 6, 3, 33, 33, 32, 32, true, true],
      [1, 2, 1, 3, 70, 8, 4, false, true],
    ] as const) {
      const group = H / G;
      const q = randn([B, G, group, T, D]).requiresGrad_();
      const k = randn([B, G, 1, S, D]).requiresGrad_();
      const v = randn([B, G, 1, S, E]).requiresGrad_();
      const keepBytes = new Uint8Array(B * S).map((_, i) => (pad ? Number(i % S < S - 1 - (i % 3)) : 1));
      const mask = pad ? reshape(tensor(Array.from(keepBytes), { dtype: "bool" }), [B, 1, 1, 1, S]) : null;
      const scale = 1 / Math.sqrt(D);
      const want = scaledDotProductAttention(q, k, v, { isCausal: causal, mask });
      const out = new Float32Array(B * H * T * E);
      const lse = new Float32Array(B * H * T);
      addon.attention(
        data(q),
        data(k),
        data(v),
        out,
        lse,
        [B, H, G, T, S, D, E],
        scale,
        causal,
        pad ? keepBytes : null,
      );
      const w = data(want);
      for (let i = 0; i < w.length; i++) {
        const a = out[i] as number;
        const b = w[i] as number;
        if (Number.isNaN(b)) assert.ok(Number.isNaN(a), `${i}: ${a} vs NaN`);
        else assert.ok(Math.abs(a - b) <= 1e-5 * (1 + Math.abs(b)), `case ${[B, H, G, T, S]}: out[${i}] ${a} vs ${b}`);
      }
      assert.ok(lse.every((x) => Number.isFinite(x)));
      // Backward against autograd through the composite.
      const dout = randn([...want.shape]);
      want.mul(dout).sum().backward();
      const grads = [new Float32Array(B * H * T * D), new Float32Array(B * G * S * D), new Float32Array(B * G * S * E)];
      addon.attentionBackward(
        data(q),
        data(k),
        data(v),
        out,
        lse,
        data(dout),
        grads[0] as Float32Array,
        grads[1] as Float32Array,
        grads[2] as Float32Array,
        [B, H, G, T, S, D, E],
        scale,
        causal,
        pad ? keepBytes : null,
      );
      [q, k, v].forEach((t, n) => {
        const g = data(t.grad as Tensor);
        const got = grads[n] as Float32Array;
        const mag = Math.max(...g.map(Math.abs));
        for (let i = 0; i < g.length; i++) {
          assert.ok(
            Math.abs((got[i] as number) - (g[i] as number)) <= 1e-4 * mag,
            `grad ${"qkv"[n]}[${i}]: ${got[i]} vs ${g[i]}`,
          );
        }
      });
    }
  });
  // No visible key: causal with more queries than keys leaves the first queries empty -> NaN.
  const out = new Float32Array(3);
  addon.attention(
    new Float32Array(3),
    new Float32Array(1),
    Float32Array.from([2]),
    out,
    null,
    [1, 1, 1, 3, 1, 1, 1],
    1,
    true,
    null,
  );
  assert.ok(Number.isNaN(out[0] as number) && Number.isNaN(out[1] as number));
  assert.equal(out[2], 2);
  assert.throws(
    () =>
      addon.attention(
        new Float32Array(3),
        new Float32Array(1),
        new Float32Array(1),
        out,
        null,
        [1, 3, 2, 1, 1, 1, 1],
        1,
        false,
        null,
      ),
    /attention: query heads H must be a multiple/,
  );
});
