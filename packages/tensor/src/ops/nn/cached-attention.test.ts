// `cachedAttention` (a decoding step's KV-cache write and attention in one op) on every backend
// against the two steps it replaces, copy_ into the caches and scaledDotProductAttention over
// their filled part: grouped-query heads, a prompt then single tokens, strided q/k/v (the heads
// of a fused qkv output), causal and additive/boolean masks, bfloat16; the caches hold exactly
// the written positions; inputs that need a gradient and a too-small cache are refused.
// `cachedAttentionQkv` (the same op reading the heads of the fused projection itself) gives the
// same bits as the head views, `cachedAttention` and the merge reshape it replaces.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cachedAttention,
  cachedAttentionQkv,
  copy_,
  listBackends,
  manualSeed,
  narrow,
  noGrad,
  randn,
  reshape,
  scaledDotProductAttention,
  type Tensor,
  tensor,
  to,
  transpose,
  withBackend,
  zeros,
} from "../../index.ts";

const data = (t: Tensor) => Array.from(to(t, "float32").dataSync() as Float32Array);

function close(got: number[], want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    assert.ok(Math.abs((got[i] as number) - (want[i] as number)) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
  }
}

/** q [B, H, T, D], k and v [B, G, T, D] as strided head views of a [B, T, (H + 2G)·D] projection output. */
function headViews(qkv: Tensor, H: number, G: number): [Tensor, Tensor, Tensor] {
  const [B, T, C] = qkv.shape as [number, number, number];
  const all = transpose(reshape(qkv, [B, T, H + 2 * G, C / (H + 2 * G)]), 1, 2);
  return [narrow(all, 1, 0, H), narrow(all, 1, H, G), narrow(all, 1, H + G, G)];
}

/** A random [B, T, (H + 2G)·D] projection output's head views (see `headViews`). */
function heads(B: number, H: number, G: number, T: number, D: number, dtype: "float32" | "bfloat16") {
  return headViews(to(randn([B, T, (H + 2 * G) * D]), dtype), H, G);
}

/** Zeroed key and value caches [B, G, C, D]. */
function caches(B: number, G: number, C: number, D: number, dtype: "float32" | "bfloat16") {
  return [zeros([B, G, C, D], { dtype }), zeros([B, G, C, D], { dtype })] as const;
}

for (const backend of listBackends()) {
  for (const [dtype, tol] of [
    ["float32", 1e-5],
    ["bfloat16", 2e-2],
  ] as const) {
    test(`cachedAttention on ${backend} (${dtype}) matches copy_ + scaledDotProductAttention, step by step`, () => {
      withBackend(backend, () =>
        noGrad(() => {
          manualSeed(3);
          const [B, H, G, D, C] = [2, 4, 2, 24, 12];
          const ours = caches(B, G, C, D, dtype);
          const theirs = caches(B, G, C, D, dtype);
          let past = 0;
          // a 5-token prompt, then single tokens; the last step with an additive padding mask, one with a bool mask
          for (const [T, mask] of [
            [5, "causal"],
            [1, "causal"],
            [1, "bool"],
            [2, "add"],
          ] as const) {
            const [q, k, v] = heads(B, H, G, T, D, dtype);
            const S = past + T;
            let m: Tensor | undefined;
            if (mask === "bool")
              m = tensor([[Array.from({ length: S }, (_, s) => s !== 1)], [Array.from({ length: S }, () => true)]], {
                dtype: "bool",
              }).reshape([B, 1, 1, S]);
            if (mask === "add") {
              const rows = Array.from({ length: B * T * S }, (_, i) =>
                ((i % S) + Math.floor(i / S)) % 3 === 0 ? -1e9 : 0.25 * (i % 5),
              );
              m = to(tensor(Float32Array.from(rows), { shape: [B, 1, T, S] }), dtype);
            }
            const opts = { isCausal: mask === "causal", mask: m, scale: 0.3 };
            const got = cachedAttention(q, k, v, ours[0], ours[1], { ...opts, past });
            assert.deepEqual(got.shape, [B, T, H, D]);
            copy_(narrow(theirs[0], 2, past, T), k);
            copy_(narrow(theirs[1], 2, past, T), v);
            const want = scaledDotProductAttention(q, narrow(theirs[0], 2, 0, S), narrow(theirs[1], 2, 0, S), opts);
            close(data(got), data(transpose(want, 1, 2)), tol, `T ${T} past ${past} ${mask}`);
            past = S;
          }
          // the caches hold the same positions, and zeros past them
          close(data(ours[0]), data(theirs[0]), 0, "keys");
          close(data(ours[1]), data(theirs[1]), 0, "values");
          assert.ok(data(narrow(ours[0], 2, past, C - past)).every((x) => x === 0));
        }),
      );
    });
  }
}

for (const backend of listBackends()) {
  for (const dtype of ["float32", "bfloat16"] as const) {
    test(`cachedAttentionQkv on ${backend} (${dtype}) gives the bits of head views + cachedAttention + reshape`, () => {
      withBackend(backend, () =>
        noGrad(() => {
          manualSeed(5);
          const [B, H, G, D, C] = [2, 6, 2, 16, 12];
          const ours = caches(B, G, C, D, dtype);
          const theirs = caches(B, G, C, D, dtype);
          let past = 0;
          for (const [T, mask] of [
            [4, "causal"],
            [1, "causal"],
            [1, "add"],
            [2, "none"],
          ] as const) {
            const qkv = to(randn([B, T, (H + 2 * G) * D]), dtype);
            const [q, k, v] = headViews(qkv, H, G);
            const S = past + T;
            const m =
              mask === "add"
                ? to(
                    tensor(
                      Float32Array.from({ length: B * S }, (_, i) => (i % 3 === 1 ? -1e9 : 0.5)),
                      { shape: [B, 1, 1, S] },
                    ),
                    dtype,
                  )
                : undefined;
            const opts = { isCausal: mask === "causal", mask: m, scale: 0.25, past };
            const got = cachedAttentionQkv(qkv, ours[0], ours[1], { ...opts, heads: H, kvHeads: G });
            assert.deepEqual(got.shape, [B, T, H * D]);
            const want = reshape(cachedAttention(q, k, v, theirs[0], theirs[1], opts), [B, T, H * D]);
            assert.deepEqual(data(got), data(want), `T ${T} past ${past} ${mask}`);
            past = S;
          }
          assert.deepEqual(data(ours[0]), data(theirs[0]), "keys");
          assert.deepEqual(data(ours[1]), data(theirs[1]), "values");
        }),
      );
    });
  }
}

test("cachedAttentionQkv refuses a projection that does not split into the heads, and inputs that need a gradient", () => {
  const cache = () => zeros([1, 2, 4, 8]);
  // 3 heads of 8 (+ 2·2 kv heads) is 56 columns, not 64
  assert.throws(
    () => noGrad(() => cachedAttentionQkv(randn([1, 1, 64]), cache(), cache(), { heads: 3, kvHeads: 2, past: 0 })),
    { code: "HEARTH_TENSOR_SHAPE", message: /qkvHeads/ },
  );
  assert.throws(
    () => noGrad(() => cachedAttentionQkv(randn([1, 1, 48]), cache(), cache(), { heads: 2, kvHeads: 2, past: 4 })),
    { code: "HEARTH_TENSOR_SHAPE", message: /keyCache' must be \[1, 2, capacity >= 5/ },
  );
  const qkv = randn([1, 1, 48], { requiresGrad: true });
  assert.throws(() => cachedAttentionQkv(qkv, cache(), cache(), { heads: 2, kvHeads: 2, past: 0 }), {
    code: "HEARTH_TENSOR_ARGUMENT",
    message: /inference only/,
  });
});

test("cachedAttention refuses a cache without room and inputs that need a gradient", () => {
  const [q, k, v] = heads(1, 2, 2, 3, 8, "float32");
  const cache = () => zeros([1, 2, 4, 8]);
  assert.throws(() => noGrad(() => cachedAttention(q, k, v, cache(), cache(), { past: 2 })), {
    code: "HEARTH_TENSOR_SHAPE",
    message: /keyCache' must be \[1, 2, capacity >= 5/,
  });
  const qg = randn([1, 2, 3, 8], { requiresGrad: true });
  assert.throws(() => cachedAttention(qg, k, v, cache(), cache(), { past: 0 }), {
    code: "HEARTH_TENSOR_ARGUMENT",
    message: /inference only/,
  });
});
