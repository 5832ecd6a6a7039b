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

test("avx512 and generic variants agree with the composite (strided k/v, broadcast masks, GQA)", () => {
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
  for (const variant of ["generic", "avx512"]) {
    if (variant === "avx512" && !addon.cpuFeatures().avx512f) continue;
    const got = run(variant, mask, [T * S, 0, S, 1], true);
    const gotKeep = run(variant, keep, [0, S, 0, 1], false);
    for (const [g, w] of [
      [got, f32(want)],
      [gotKeep, f32(wantKeep)],
    ] as const) {
      for (let i = 0; i < w.length; i++) {
        assert.ok(
          Math.abs((g[i] as number) - (w[i] as number)) <= 2e-5 * (1 + Math.abs(w[i] as number)),
          `${variant} [${i}]: ${g[i]} vs ${w[i]}`,
        );
      }
    }
  }
  assert.equal(addon.selectAttentionKernel("no-such-variant"), false);
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
