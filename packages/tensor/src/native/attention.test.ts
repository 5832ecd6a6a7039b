// The addon's fused attention called directly: its vector variants agree with each other and
// with the composite on the `js` backend (strided q/k/v, a broadcast additive mask, a bool
// mask, grouped-query heads), queries that see no key give NaN, and bad arguments throw
// instead of reading outside a buffer. The primitive built on it is tested in
// ../ops/nn/attention.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { compositeAttention, manualSeed, randn, type Tensor, withBackend } from "../index.ts";
import { native } from "./index.ts";

if (!native) throw new Error("attention.test: the native addon did not load");
const addon: NonNullable<typeof native> = native;
const f32 = (t: Tensor) => Float32Array.from(t.dataSync() as Float32Array);
const cpu = addon.cpuFeatures();
/** The vector variants this CPU runs. */
const VECTOR_VARIANTS = [...(cpu.avx2 && cpu.fma ? ["avx2"] : []), ...(cpu.avx512f ? ["avx512"] : [])];

/** Every element of `got` within 2e-5 (relative, plus absolute) of the composite's `want`. */
function assertNearComposite(got: ArrayLike<number>, want: Float32Array, label: string): void {
  for (let i = 0; i < want.length; i++) {
    assert.ok(
      Math.abs((got[i] as number) - (want[i] as number)) <= 2e-5 * (1 + Math.abs(want[i] as number)),
      `${label} [${i}]: ${got[i]} vs ${want[i]}`,
    );
  }
}

test("avx512, avx2 and generic variants agree with the composite (strided k/v, broadcast masks, GQA)", () => {
  manualSeed(21);
  const [B, H, G, T, S, D, E, cap] = [2, 6, 3, 9, 77, 19, 35, 80];
  const scale = 0.25;
  const { q, k, v, mask, keep, want, wantKeep } = withBackend("js", () => {
    const q = randn([B, H, T, D]);
    const k = randn([B, G, cap, D]);
    const v = randn([B, G, cap, E]);
    const mask = randn([B, 1, T, S]);
    const keep = randn([1, H, 1, S]).gt(-0.5);
    const rep = (t: Tensor) =>
      t
        .slice(2, 0, S)
        .unsqueeze(2)
        .expand([B, G, H / G, S, t.shape[3] as number])
        .reshape([B, H, S, t.shape[3] as number]);
    return {
      q,
      k,
      v,
      mask,
      keep,
      want: compositeAttention(q, rep(k), rep(v), { mask, scale, isCausal: true }),
      wantKeep: compositeAttention(q, rep(k), rep(v), { mask: keep, scale }),
    };
  });
  const run = (variant: string, m: Tensor, maskStrides: number[], causal: boolean) => {
    assert.ok(addon.selectAttentionKernel(variant) || variant !== "generic");
    const out = new Float32Array(B * H * T * E);
    const lse = new Float32Array(B * H * T);
    const md = m.dtype === "bool" ? Uint8Array.from(m.dataSync() as Uint8Array) : f32(m);
    addon.attention(
      ...([f32(q), 0, [H * T * D, T * D, D]] as const),
      ...([f32(k), 0, [G * cap * D, cap * D, D]] as const),
      ...([f32(v), 0, [G * cap * E, cap * E, E]] as const),
      md,
      0,
      maskStrides,
      out,
      0,
      [H * T * E, T * E, E],
      lse,
      [B, H, G, T, S, D, E],
      scale,
      causal,
    );
    addon.selectAttentionKernel("");
    return Array.from(out);
  };
  for (const variant of ["generic", ...VECTOR_VARIANTS]) {
    assertNearComposite(run(variant, mask, [T * S, 0, S, 1], true), f32(want), variant);
    assertNearComposite(run(variant, keep, [0, S, 0, 1], false), f32(wantKeep), variant);
  }
  assert.equal(addon.selectAttentionKernel("no-such-variant"), false);
});

// A causal tile scores only the keys up to its last row's limit (the rest are masked anyway) and
// leaves them out of its softmax: prefill-shaped heads (64 wide, key blocks on and off the
// diagonal, a cache offset S > T) against the composite, with and without an additive mask.
test("causal tiles that score only their visible keys agree with the composite", () => {
  manualSeed(5);
  for (const [T, S, D, withMask] of [
    [130, 130, 64, false],
    [70, 135, 64, true],
    [37, 37, 20, false],
  ] as const) {
    const [B, H] = [1, 2];
    const scale = 0.125;
    const { q, k, v, mask, want } = withBackend("js", () => {
      const q = randn([B, H, T, D]);
      const k = randn([B, H, S, D]);
      const v = randn([B, H, S, D]);
      const mask = randn([B, 1, T, S]);
      const want = compositeAttention(q, k, v, { mask: withMask ? mask : undefined, scale, isCausal: true });
      return { q, k, v, mask, want };
    });
    const w = f32(want);
    for (const variant of ["generic", ...VECTOR_VARIANTS]) {
      assert.ok(addon.selectAttentionKernel(variant));
      const out = new Float32Array(B * H * T * D);
      addon.attention(
        ...([f32(q), 0, [H * T * D, T * D, D]] as const),
        ...([f32(k), 0, [H * S * D, S * D, D]] as const),
        ...([f32(v), 0, [H * S * D, S * D, D]] as const),
        withMask ? f32(mask) : null,
        0,
        withMask ? [T * S, 0, S, 1] : [0, 0, 0, 0],
        out,
        0,
        [H * T * D, T * D, D],
        null,
        [B, H, H, T, S, D, D],
        scale,
        true,
      );
      addon.selectAttentionKernel("");
      assertNearComposite(out, w, `${variant} T ${T} S ${S}`);
    }
  }
});

test("no visible key gives NaN and lse -inf; bad arguments throw", () => {
  const out = new Float32Array(3);
  const lse = new Float32Array(3);
  const none = [null, 0, [0, 0, 0, 0]] as const;
  addon.attention(
    ...([new Float32Array(3), 0, [3, 3, 1]] as const),
    ...([new Float32Array(1), 0, [1, 1, 1]] as const),
    ...([Float32Array.from([2]), 0, [1, 1, 1]] as const),
    ...none,
    out,
    0,
    [3, 3, 1],
    lse,
    [1, 1, 1, 3, 1, 1, 1],
    1,
    true,
  );
  assert.ok(Number.isNaN(out[0] as number) && Number.isNaN(out[1] as number));
  assert.equal(out[2], 2);
  assert.equal(lse[0], Number.NEGATIVE_INFINITY);
  const one = new Float32Array(1);
  assert.throws(
    () =>
      addon.attention(
        one,
        0,
        [1, 1, 1],
        one,
        0,
        [1, 1, 1],
        one,
        0,
        [1, 1, 1],
        ...none,
        out,
        0,
        [3, 1, 1],
        null,
        [1, 3, 2, 1, 1, 1, 1],
        1,
        false,
      ),
    /attention: query heads H must be a multiple/,
  );
  // A k view that would reach past its buffer (stride 2 over 2 keys of a 2-element array).
  assert.throws(
    () =>
      addon.attention(
        one,
        0,
        [1, 1, 1],
        new Float32Array(2),
        0,
        [4, 4, 2],
        new Float32Array(2),
        0,
        [2, 2, 1],
        ...none,
        out,
        0,
        [1, 1, 1],
        null,
        [1, 1, 1, 1, 2, 1, 1],
        1,
        false,
      ),
    { code: "HEARTH_TENSOR_BUFFER" },
  );
});

test("each vector variant's forward (tiles and decoding rows) and backward agree with generic on odd shapes", () => {
  let seed = 3;
  const rand = (n: number) =>
    Float32Array.from({ length: n }, () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 31 - 1;
    });
  // [B, H, G, T, S, D, E, causal, mask]: decoding rows (T < 4) with head sizes off the vector
  // width, tiles with short and long key runs, grouped heads, key blocks a -1e38 mask hides.
  const cases: [number, number, number, number, number, number, number, boolean, string][] = [
    [1, 2, 1, 1, 150, 19, 35, false, "add"],
    [2, 4, 2, 3, 70, 13, 9, true, "none"],
    [1, 3, 3, 67, 67, 20, 12, true, "bool"],
    [2, 2, 1, 130, 130, 64, 64, false, "min"],
    [1, 2, 2, 5, 200, 8, 72, false, "add"],
    [1, 1, 1, 4, 3, 1, 1, false, "none"],
    [1, 2, 1, 9, 9, 7, 33, true, "none"],
    [1, 4, 2, 70, 135, 24, 40, true, "add"],
  ];
  for (const [B, H, G, T, S, D, E, causal, kind] of cases) {
    const q = rand(B * H * T * D);
    const k = rand(B * G * S * D);
    const v = rand(B * G * S * E);
    const dout = rand(B * H * T * E);
    let mask: Float32Array | Uint8Array | null = null;
    let ms = [0, 0, 0, 0];
    if (kind === "add") [mask, ms] = [rand(B * T * S), [T * S, 0, S, 1]];
    if (kind === "bool") [mask, ms] = [Uint8Array.from(rand(H * S), (x) => (x > -0.6 ? 1 : 0)), [0, S, 0, 1]];
    if (kind === "min") {
      mask = Float32Array.from({ length: T * S }, (_, i) => (i % S > Math.floor(i / S) ? -3.4e38 : 0));
      ms = [0, 0, S, 1];
    }
    const [qs, ks, vs, os] = [
      [H * T * D, T * D, D],
      [G * S * D, S * D, D],
      [G * S * E, S * E, E],
      [H * T * E, T * E, E],
    ];
    const run = (variant: string) => {
      assert.ok(addon.selectAttentionKernel(variant));
      try {
        const out = new Float32Array(B * H * T * E);
        const lse = new Float32Array(B * H * T);
        const dq = new Float32Array(q.length);
        const dk = new Float32Array(k.length);
        const dv = new Float32Array(v.length);
        const inputs = [q, 0, qs, k, 0, ks, v, 0, vs, mask, 0, ms] as const;
        addon.attention(...inputs, out, 0, os, lse, [B, H, G, T, S, D, E], 0.4, causal);
        addon.attentionBackward(
          ...inputs,
          ...([out, 0, os, lse, dout, 0, os, dq, 0, qs, dk, 0, ks, dv, 0, vs] as const),
          [B, H, G, T, S, D, E],
          0.4,
          causal,
        );
        return { out, lse, dq, dk, dv };
      } finally {
        addon.selectAttentionKernel("");
      }
    };
    const want = run("generic");
    for (const variant of VECTOR_VARIANTS) {
      const got = run(variant);
      for (const name of ["out", "lse", "dq", "dk", "dv"] as const) {
        const [g, w] = [got[name], want[name]];
        const mag = Math.max(1, ...Array.from(w, (x) => (Number.isFinite(x) ? Math.abs(x) : 0)));
        for (let i = 0; i < w.length; i++) {
          // a query the bool mask hides from every key: NaN out and -inf lse in both
          const same = Object.is(g[i], w[i]) || (Number.isNaN(g[i] as number) && Number.isNaN(w[i] as number));
          assert.ok(
            same || Math.abs((g[i] as number) - (w[i] as number)) <= 1e-5 * mag,
            `${variant} ${name}[${i}] ${[B, H, G, T, S, D, E, causal, kind]}: ${g[i]} vs ${w[i]}`,
          );
        }
      }
    }
  }
});

// With newK/newV the call first writes the new keys and values (strided views, here the heads of
// a fused [B, T, (H + 2G)·D] projection) into the caches at [S - T, S): the caches afterwards
// hold exactly the old rows plus the new ones (bit for bit, other positions untouched), and the
// output equals a plain call on caches filled beforehand. A window shorter than T throws.
test("attention with newK/newV appends them to the caches first (odd shapes, GQA, strided sources)", () => {
  manualSeed(23);
  const [B, H, G, T, past, D, cap] = [2, 6, 3, 3, 11, 13, 17];
  const C = (H + 2 * G) * D;
  const qkv = f32(randn([B, T, C]));
  const kc = f32(randn([B, G, cap, D]));
  const vc = f32(randn([B, G, cap, D]));
  // heads `first..` of qkv as [B, n, T, D]: strides [T·C, D, C]
  const heads = [T * C, D, C];
  const view = (first: number) => [qkv, first * D, heads] as const;
  const cacheStrides = [G * cap * D, cap * D, D];
  // S: the key positions attended (past + T; fewer to check the refusal)
  const call = (k: Float32Array, v: Float32Array, append: boolean, S = past + T) => {
    const out = new Float32Array(B * T * H * D);
    addon.attention(
      ...view(0),
      ...([k, 0, cacheStrides] as const),
      ...([v, 0, cacheStrides] as const),
      null,
      0,
      [0, 0, 0, 0],
      out,
      0,
      [T * H * D, D, H * D],
      null,
      [B, H, G, T, S, D, D],
      0.3,
      true,
      append ? qkv : null,
      H * D,
      heads,
      append ? qkv : null,
      (H + G) * D,
      heads,
    );
    return out;
  };
  // the reference: the new rows copied in by hand, then a plain call
  const [kRef, vRef] = [Float32Array.from(kc), Float32Array.from(vc)];
  for (const [dst, first] of [
    [kRef, H],
    [vRef, H + G],
  ] as const)
    for (let b = 0; b < B; b++)
      for (let g = 0; g < G; g++)
        for (let t = 0; t < T; t++)
          for (let d = 0; d < D; d++)
            dst[b * G * cap * D + g * cap * D + (past + t) * D + d] = qkv[
              b * T * C + t * C + (first + g) * D + d
            ] as number;
  const want = call(kRef, vRef, false);
  const [k, v] = [Float32Array.from(kc), Float32Array.from(vc)];
  const got = call(k, v, true);
  assert.deepEqual(Array.from(k), Array.from(kRef));
  assert.deepEqual(Array.from(v), Array.from(vRef));
  assert.deepEqual(Array.from(got), Array.from(want));
  assert.throws(() => call(k, v, true, T - 1), /at least the T new positions/);
});
