// The addon's fused row kernels (softmax, layerNorm, rmsNorm and their backwards) against the
// engine's composite ops and autograd on the `js` reference backend; the activations (gelu,
// gelu tanh, silu and their backwards) against the `js` backend's kernels.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  gelu,
  layerNorm,
  manualSeed,
  randn,
  rmsNorm,
  silu,
  softmax,
  type Tensor,
  tensor,
  withBackend,
} from "../index.ts";
import { native } from "./index.ts";

if (!native) throw new Error("fused.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;

function close(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as number;
    const g = got[i] as number;
    if (Number.isNaN(w)) assert.ok(Number.isNaN(g), `${what}[${i}]: ${g} vs NaN`);
    else assert.ok(g === w || Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what}[${i}]: ${g} vs ${w}`);
  }
}
const data = (t: Tensor) => Float32Array.from(t.dataSync() as Float32Array);

test("fused softmax, layerNorm and rmsNorm match the composite ops and their gradients", () => {
  withBackend("js", () => {
    manualSeed(11);
    for (const [R, C] of [
      [3, 5],
      [64, 257],
      [300, 1000],
    ] as const) {
      const x = randn([R, C]).mul(3).requiresGrad_();
      const dy = randn([R, C]);
      const n = R * C;
      // softmax forward + backward
      const y = softmax(x, -1);
      y.mul(dy).sum().backward();
      const ys = new Float32Array(n);
      addon.softmaxRows(data(x), ys, R, C);
      close(ys, data(y), 1e-6, "softmax");
      const dx = new Float32Array(n);
      addon.softmaxBackwardRows(ys, data(dy), dx, R, C);
      close(dx, data(x.grad as Tensor), 1e-5, "softmax grad");
      // layerNorm forward + backward with affine parameters
      const w = randn([C]).requiresGrad_();
      const b = randn([C]).requiresGrad_();
      const x2 = randn([R, C]).mul(2).add(1).requiresGrad_();
      const ln = layerNorm(x2, [C], w, b, 1e-5);
      ln.mul(dy).sum().backward();
      const yl = new Float32Array(n);
      const mean = new Float32Array(R);
      const rstd = new Float32Array(R);
      addon.layerNormRows(data(x2), data(w), data(b), 1e-5, yl, mean, rstd, R, C);
      close(yl, data(ln), 1e-5, "layerNorm");
      const dxl = new Float32Array(n);
      const dw = new Float32Array(C);
      const db = new Float32Array(C);
      addon.layerNormBackwardRows(data(x2), data(w), mean, rstd, data(dy), dxl, dw, db, R, C);
      close(dxl, data(x2.grad as Tensor), 1e-4, "layerNorm grad x");
      close(dw, data(w.grad as Tensor), 1e-4, "layerNorm grad w");
      close(db, data(b.grad as Tensor), 1e-4, "layerNorm grad b");
      // rmsNorm forward
      const rw = randn([C]);
      const yr = new Float32Array(n);
      addon.rmsNormRows(data(x2), data(rw), 1e-6, yr, null, R, C);
      close(yr, data(rmsNorm(x2.detach(), rw, 1e-6)), 1e-5, "rmsNorm");
    }
  });
  // A fully masked row (all -inf) gives NaN, like the composite.
  const y = new Float32Array(4);
  addon.softmaxRows(Float32Array.from([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 1]), y, 2, 2);
  assert.ok(Number.isNaN(y[0] as number) && Number.isNaN(y[1] as number));
  assert.ok(Math.abs((y[3] as number) - 1 / (1 + Math.exp(-1))) < 1e-6);
  assert.throws(
    () => addon.softmaxRows(new Float32Array(3), new Float32Array(4), 2, 2),
    /softmaxRows: argument 'x' holds 3/,
  );
});

test("native gelu, gelu tanh and silu match the js kernels, forward and backward, on every length", () => {
  manualSeed(12);
  // Lengths around the kernels' blocks of 4 vectors (32 floats on AVX2, 64 on AVX-512) and
  // their one-vector tails; values over a wide range, with ±inf, NaN, ±0 and exp's clamps.
  const special = [0, -0, 1e-30, -1e-30, 20, -20, 88.8, -88.8, 1e4, -1e4, Infinity, -Infinity, NaN];
  for (const n of [1, 7, 8, 9, 16, 24, 31, 32, 33, 63, 64, 65, 100, 1027]) {
    const raw = Array.from(randn([n]).mul(4).dataSync() as Float32Array);
    special.forEach((v, i) => {
      if (i * 5 < n) raw[i * 5] = v;
    });
    const dy = Array.from(randn([n]).dataSync() as Float32Array);
    for (const act of ["gelu", "geluTanh", "silu"] as const) {
      const run = (backend: string) =>
        withBackend(backend, () => {
          const x = tensor(raw).requiresGrad_();
          const y = act === "silu" ? silu(x) : gelu(x, act === "geluTanh" ? "tanh" : "none");
          y.backward(tensor(dy));
          return { y: data(y), dx: data(x.grad as Tensor) };
        });
      const want = run("js");
      const got = run("cpu");
      close(got.y, want.y, 1e-6, `${act} ${n}`);
      close(got.dx, want.dx, 1e-5, `${act} grad ${n}`);
    }
  }
});
