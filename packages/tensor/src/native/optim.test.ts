// The addon's fused Adam step against the same update written out in JavaScript (float32
// rounding at the same points): results must be bit-identical, with and without AMSGrad, L2
// decay and AdamW's decoupled decay, on sizes that take the threaded path, and where √v / √(1−β2ᵗ)
// lies next to a float32 rounding boundary (the kernel divides by multiplying with the inverse
// there except near such boundaries).
import assert from "node:assert/strict";
import { test } from "node:test";
import { native } from "./index.ts";

if (!native) throw new Error("optim.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
const f = Math.fround;

function reference(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  vmax: Float32Array | null,
  o: { stepSize: number; bc2Sqrt: number; b1: number; b2: number; eps: number; wd: number; l2: boolean; keep: number },
): void {
  for (let i = 0; i < p.length; i++) {
    if (o.keep !== 1) p[i] = f((p[i] as number) * o.keep);
    let gi = g[i] as number;
    if (o.l2 && o.wd !== 0) gi = f(gi + f(o.wd * (p[i] as number)));
    const mi = f(f(o.b1 * (m[i] as number)) + f((1 - o.b1) * gi));
    const vi = f(f(o.b2 * (v[i] as number)) + f(f((1 - o.b2) * gi) * gi));
    m[i] = mi;
    v[i] = vi;
    let vs = vi;
    if (vmax) {
      vs = Math.max(vmax[i] as number, vi);
      vmax[i] = vs;
    }
    const denom = f(f(f(Math.sqrt(vs)) / o.bc2Sqrt) + o.eps);
    p[i] = f((p[i] as number) - f(o.stepSize * f(mi / denom)));
  }
}

test("adamStep rounds √v / √(1−β2ᵗ) as a division where the quotient is next to a float32 rounding boundary", () => {
  // β2 = 0 and v = 0 make √v = f32(√f32(g²)) =: x; bc2Sqrt = x / mid puts the quotient within an
  // ulp (double) of mid, the midpoint of two adjacent float32 values, where a product with the
  // inverse rounds to the wrong side about half the time.
  const bits = new Uint32Array(1);
  const fl = new Float32Array(bits.buffer);
  let seed = 11;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
  let checked = 0;
  for (let t = 0; t < 400; t++) {
    const gv = f((0.05 + rand()) * 2 ** Math.floor(rand() * 40 - 20));
    const x = f(Math.sqrt(f(gv * gv)));
    fl[0] = f(x / (1.1 + rand()));
    const lo = fl[0] as number;
    bits[0] = (bits[0] as number) + 1;
    const mid = (lo + (fl[0] as number)) / 2;
    const bc2Sqrt = x / mid;
    const n = 16 + (t % 3);
    // p = 0 and step size 1 make the new p = −f32(m / denom), which shows denom's last bit.
    const o = { stepSize: 1, bc2Sqrt, b1: 0.9, b2: 0, eps: 0, wd: 0, l2: false, keep: 1 };
    const ref = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    const ours = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    const g = new Float32Array(n).fill(gv);
    reference(ref[0], g, ref[1], ref[2], null, o);
    addon.adamStep(ours[0], g, ours[1], ours[2], null, 1, bc2Sqrt, 0.9, 0, 0, 0, false, 1);
    assert.deepEqual(ours[0], ref[0], `trial ${t}: g ${gv}, bc2Sqrt ${bc2Sqrt}`);
    checked++;
  }
  assert.equal(checked, 400);
});

test("adamStep is bit-identical to the JavaScript update", () => {
  let seed = 5;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  for (const [n, amsgrad, l2, keep] of [
    [1000, false, false, f(1 - 1e-3 * 0.01)],
    [100003, true, true, 1],
    [7, false, true, 1],
    [1005, true, false, f(1 - 1e-5)],
  ] as const) {
    const p = Float32Array.from({ length: n }, rand);
    const state = [p.slice(), new Float32Array(n), new Float32Array(n), amsgrad ? new Float32Array(n) : null] as const;
    const ours = [p.slice(), new Float32Array(n), new Float32Array(n), amsgrad ? new Float32Array(n) : null] as const;
    for (let step = 1; step <= 3; step++) {
      const g = Float32Array.from({ length: n }, rand);
      const o = {
        stepSize: 1e-3 / (1 - 0.9 ** step),
        bc2Sqrt: Math.sqrt(1 - 0.999 ** step),
        b1: 0.9,
        b2: 0.999,
        eps: 1e-8,
        wd: 0.01,
        l2,
        keep,
      };
      reference(state[0], g, state[1], state[2], state[3], o);
      addon.adamStep(ours[0], g, ours[1], ours[2], ours[3], o.stepSize, o.bc2Sqrt, 0.9, 0.999, 1e-8, 0.01, l2, keep);
    }
    for (let k = 0; k < 4; k++) assert.deepEqual(ours[k], state[k], `n=${n} buffer ${k}`);
  }
  assert.throws(
    () =>
      addon.adamStep(
        new Float32Array(3),
        new Float32Array(2),
        new Float32Array(3),
        new Float32Array(3),
        null,
        1,
        1,
        0.9,
        0.999,
        1e-8,
        0,
        false,
        1,
      ),
    /adamStep: argument 'g' must have 3 elements, got 2/,
  );
});
