// layerNorm's and rmsNorm's `stats: false` (y alone, without the mean/rstd outputs only the
// backward reads), on every backend, odd shapes and 16-bit inputs: the same y as the primitive
// with its statistics, one output when no backward is recorded, and the statistics back (and a
// working backward) when the call records one.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  layerNorm,
  listBackends,
  manualSeed,
  noGrad,
  randn,
  rmsNorm,
  sum,
  type Tensor,
  to,
  withBackend,
} from "../../index.ts";
import { apply } from "../apply.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

describe("norms with stats: false", () => {
  for (const backend of listBackends()) {
    for (const dtype of ["float32", "bfloat16"] as const) {
      test(`${backend} ${dtype}: the same y, one output without a backward`, () =>
        withBackend(backend, () => {
          manualSeed(3);
          for (const shape of [
            [1, 1, 37],
            [3, 5, 19],
            [2, 768],
          ]) {
            const C = shape[shape.length - 1] as number;
            const x = to(randn(shape), dtype);
            const w = to(randn([C]), dtype);
            const b = to(randn([C]), dtype);
            const ln = { normalizedDims: 1, eps: 1e-5, weight: true, bias: true };
            const rms = { eps: 1e-6, weight: true };
            noGrad(() => {
              const full = apply("layerNorm", [x, w, b], ln);
              const lean = apply("layerNorm", [x, w, b], { ...ln, stats: false });
              assert.equal(full.length, 3);
              assert.equal(lean.length, 1);
              assert.deepEqual(data(lean[0] as Tensor), data(full[0] as Tensor), `layerNorm ${shape}`);
              const rFull = apply("rmsNorm", [x, w], rms);
              const rLean = apply("rmsNorm", [x, w], { ...rms, stats: false });
              assert.equal(rFull.length, 2);
              assert.equal(rLean.length, 1);
              assert.deepEqual(data(rLean[0] as Tensor), data(rFull[0] as Tensor), `rmsNorm ${shape}`);
            });
          }
        }));
    }
    test(`${backend}: the statistics come back when the call records a backward`, () =>
      withBackend(backend, () => {
        manualSeed(4);
        const x = randn([3, 11]).requiresGrad_();
        const w = randn([11]).requiresGrad_();
        const b = randn([11]);
        const outs = apply("layerNorm", [x, w, b], {
          normalizedDims: 1,
          eps: 1e-5,
          weight: true,
          bias: true,
          stats: false,
        });
        assert.equal(outs.length, 3);
        assert.equal(apply("rmsNorm", [x, w], { eps: 1e-6, weight: true, stats: false }).length, 2);
        // the ops as models call them (stats: false inside) still train: gradients of both paths
        sum(layerNorm(x, [11], w, b)).backward();
        const lnGrad = data(x.grad as Tensor);
        x.grad = null;
        sum(rmsNorm(x, w)).backward();
        assert.ok(lnGrad.every(Number.isFinite) && lnGrad.some((g) => g !== 0));
        assert.ok(data(x.grad as unknown as Tensor).every(Number.isFinite));
      }));
  }
});
