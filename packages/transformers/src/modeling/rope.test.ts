import assert from "node:assert/strict";
import { test } from "node:test";
import { randn, tensor } from "@hearth/tensor";
import { applyRotary, RotaryEmbedding } from "./rope.ts";

test("rope: default inverse frequencies are theta^(-2i/D); linear divides them by the factor", () => {
  const plain = new RotaryEmbedding({ headDim: 4, theta: 10000, maxPositionEmbeddings: 8 });
  assert.deepEqual([...plain.invFreq(1)], [1, 0.01]);
  const linear = new RotaryEmbedding({
    headDim: 4,
    theta: 10000,
    maxPositionEmbeddings: 8,
    scaling: { type: "linear", factor: 4 },
  });
  assert.deepEqual([...linear.invFreq(1)], [0.25, 0.0025]);
});

test("rope: dynamic NTK grows the base only past max_position_embeddings", () => {
  const dyn = new RotaryEmbedding({
    headDim: 4,
    theta: 10000,
    maxPositionEmbeddings: 8,
    scaling: { type: "dynamic", factor: 2 },
  });
  assert.deepEqual([...dyn.invFreq(8)], [1, 0.01]);
  // base = 10000 · (2·16/8 − 1)^(4/2) = 90000, so invFreq[1] = 90000^(−1/2) = 1/300.
  const f = dyn.invFreq(16);
  assert.ok(Math.abs((f[1] as number) - 1 / 300) < 1e-12);
});

test("rope: llama3 keeps high frequencies, divides low ones by the factor, blends the middle", () => {
  const s = {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 8192,
  };
  const base = new RotaryEmbedding({ headDim: 128, theta: 500000, maxPositionEmbeddings: 131072 }).invFreq(1);
  const scaled = new RotaryEmbedding({
    headDim: 128,
    theta: 500000,
    maxPositionEmbeddings: 131072,
    scaling: s,
  }).invFreq(1);
  let high = 0;
  let low = 0;
  let mid = 0;
  base.forEach((f, i) => {
    const wavelen = (2 * Math.PI) / f;
    const g = scaled[i] as number;
    if (wavelen < 8192 / 4) {
      assert.equal(g, f);
      high++;
    } else if (wavelen > 8192) {
      assert.ok(Math.abs(g - f / 8) < 1e-15);
      low++;
    } else {
      assert.ok(g < f && g > f / 8);
      mid++;
    }
  });
  assert.ok(high > 0 && low > 0 && mid > 0);
  assert.throws(
    () => new RotaryEmbedding({ headDim: 4, theta: 1, maxPositionEmbeddings: 1, scaling: { type: "yarn" } }),
    /not supported/,
  );
});

test("rope: attention scores depend only on the distance between positions", () => {
  const rope = new RotaryEmbedding({ headDim: 8, theta: 10000, maxPositionEmbeddings: 64 });
  const q = randn([1, 1, 1, 8]);
  const k = randn([1, 1, 1, 8]);
  const score = (pq: number, pk: number) => {
    const a = rope.cosSin(tensor([[pq]], { dtype: "int64" }));
    const b = rope.cosSin(tensor([[pk]], { dtype: "int64" }));
    const x = applyRotary(q, a.cos, a.sin).dataSync() as Float32Array;
    const y = applyRotary(k, b.cos, b.sin).dataSync() as Float32Array;
    return x.reduce((s, v, i) => s + v * (y[i] as number), 0);
  };
  assert.ok(Math.abs(score(7, 3) - score(12, 8)) < 1e-5);
  assert.ok(Math.abs(score(7, 3) - score(7, 5)) > 1e-4);
});
