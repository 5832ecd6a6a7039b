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

/** Uniform numbers in [0, 1) from a fixed seed. */
function generator(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/**
 * A gradient gv (binades within ±range/2 of 1) and a bc2Sqrt that put √v / √(1−β2ᵗ) next to a
 * float32 rounding boundary when β2 = 0 and v = 0: then √v = f32(√f32(gv²)) =: x, and
 * bc2Sqrt = x / mid puts the quotient within an ulp (double) of mid, the midpoint of two
 * adjacent float32 values, where a product with the inverse rounds to the wrong side about half
 * the time.
 */
function boundaryCase(rand: () => number, range: number): { gv: number; bc2Sqrt: number } {
  const gv = f((0.05 + rand()) * 2 ** Math.floor(rand() * range - range / 2));
  const x = f(Math.sqrt(f(gv * gv)));
  const lo = f(x / (1.1 + rand()));
  const bits = new Uint32Array(new Float32Array([lo]).buffer);
  bits[0] = (bits[0] as number) + 1;
  const hi = new Float32Array(bits.buffer)[0] as number;
  return { gv, bc2Sqrt: x / ((lo + hi) / 2) };
}

test("adamStep rounds √v / √(1−β2ᵗ) as a division where the quotient is next to a float32 rounding boundary", () => {
  const rand = generator(11);
  let checked = 0;
  for (let t = 0; t < 400; t++) {
    const { gv, bc2Sqrt } = boundaryCase(rand, 40);
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

test("adamStep divides the one lane next to a rounding boundary among ordinary lanes, and zero gradients", () => {
  // The kernel tests 8 lanes at once and divides only where a lane needs it: one boundary lane
  // (built as in the test above) at every position of 24, the others ordinary.
  const rand = generator(23);
  const n = 24;
  for (let t = 0; t < 96; t++) {
    const { gv, bc2Sqrt } = boundaryCase(rand, 20);
    const g = Float32Array.from({ length: n }, () => f((rand() - 0.5) * 2 ** Math.floor(rand() * 20 - 10)));
    g[t % n] = gv;
    const o = { stepSize: 1, bc2Sqrt, b1: 0.9, b2: 0, eps: 0, wd: 0, l2: false, keep: 1 };
    const ref = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    const ours = [new Float32Array(n), new Float32Array(n), new Float32Array(n)] as const;
    reference(ref[0], g, ref[1], ref[2], null, o);
    addon.adamStep(ours[0], g, ours[1], ours[2], null, 1, bc2Sqrt, 0.9, 0, 0, 0, false, 1);
    assert.deepEqual(ours[0], ref[0], `trial ${t}: boundary lane ${t % n}`);
  }
  // Zero gradients (an unused embedding row) keep v = 0 and √v / √(1−β2ᵗ) = 0: p only decays.
  const m = 37;
  const g = Float32Array.from({ length: m }, (_, i) => (i % 5 === 0 ? 0 : f(rand() - 0.5)));
  const p0 = Float32Array.from({ length: m }, () => f(rand() - 0.5));
  const ref = [p0.slice(), new Float32Array(m), new Float32Array(m)] as const;
  const ours = [p0.slice(), new Float32Array(m), new Float32Array(m)] as const;
  const keep = f(1 - 1e-5);
  for (let step = 1; step <= 2; step++) {
    const o = { stepSize: 1e-3 / (1 - 0.9 ** step), bc2Sqrt: Math.sqrt(1 - 0.999 ** step), b1: 0.9, b2: 0.999 };
    reference(ref[0], g, ref[1], ref[2], null, { ...o, eps: 1e-8, wd: 0.01, l2: false, keep });
    addon.adamStep(ours[0], g, ours[1], ours[2], null, o.stepSize, o.bc2Sqrt, 0.9, 0.999, 1e-8, 0.01, false, keep);
  }
  for (let k = 0; k < 3; k++) assert.deepEqual(ours[k], ref[k], `zero gradients: buffer ${k}`);
  assert.equal(ours[2][0], 0);
});

test("adamStep is bit-identical to the JavaScript update", () => {
  const uniform = generator(5);
  const rand = () => uniform() - 0.5;
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
