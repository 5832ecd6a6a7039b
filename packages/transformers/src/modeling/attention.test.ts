import assert from "node:assert/strict";
import { test } from "node:test";
import { manualSeed, randn, tensor } from "@hearth/tensor";
import { decoderAttentionMask, decoderMask, maskValue, scaledDotProductAttention } from "./attention.ts";

const visible = (m: number[][][][], b: number, t: number) =>
  (((m[b] as number[][][])[0] as number[][])[t] as number[]).map((x, s) => (x === 0 ? s : -1)).filter((s) => s >= 0);

test("decoderMask: causal, padding and past positions", () => {
  const mask = decoderMask(
    tensor(
      [
        [0, 1, 1, 1],
        [1, 1, 1, 1],
      ],
      { dtype: "int64" },
    ),
    2,
    2,
    "float32",
  );
  assert.deepEqual(mask.shape, [2, 1, 2, 4]);
  const m = mask.tolistSync() as number[][][][];
  assert.deepEqual(visible(m, 0, 0), [1, 2]);
  assert.deepEqual(visible(m, 0, 1), [1, 2, 3]);
  assert.deepEqual(visible(m, 1, 0), [0, 1, 2]);
  assert.equal(m[0]?.[0]?.[0]?.[0], maskValue("float32"));
});

test("decoderMask: a sliding window sees only the last positions (Mistral)", () => {
  const m = decoderMask(null, 4, 0, "float32", 2).tolistSync() as number[][][][];
  assert.deepEqual(visible(m, 0, 3), [2, 3]);
  assert.deepEqual(visible(m, 0, 0), [0]);
});

test("decoderMask: half-precision masks use that dtype's most negative value", () => {
  const m = decoderMask(null, 2, 0, "bfloat16");
  assert.equal(m.dtype, "bfloat16");
  assert.ok(Number.isFinite(m.dataSync()[1] as number));
});

test("decoderAttentionMask: 'causal' only when nothing but future keys is hidden", () => {
  assert.equal(decoderAttentionMask(null, 3, 0, "float32"), "causal");
  assert.equal(decoderAttentionMask(tensor([[1, 1, 1, 1]], { dtype: "int64" }), 2, 2, "float32"), "causal");
  assert.equal(decoderAttentionMask(null, 4, 0, "float32", 4), "causal"); // the window reaches every key
  const padded = decoderAttentionMask(tensor([[0, 1, 1]], { dtype: "int64" }), 3, 0, "float32");
  assert.notEqual(padded, "causal");
  assert.deepEqual((padded as Exclude<typeof padded, string>).shape, [1, 1, 3, 3]);
  assert.notEqual(decoderAttentionMask(null, 4, 0, "float32", 2), "causal");
  // a malformed mask still gets decoderMask's error
  assert.throws(() => decoderAttentionMask(tensor([[1, 1]], { dtype: "int64" }), 3, 0, "float32"), /attentionMask/);
});

test("scaledDotProductAttention: 'causal' gives what the additive causal mask gives", () => {
  manualSeed(3);
  // grouped heads (4 query heads over 2 kv heads), 2 past positions in the keys
  const [B, H, G, T, S, D] = [2, 4, 2, 5, 7, 8];
  const q = randn([B, H, T, D]);
  const k = randn([B, G, S, D]);
  const v = randn([B, G, S, D]);
  const mask = decoderMask(null, T, S - T, "float32");
  const fused = scaledDotProductAttention(q, k, v, "causal", 0.3).output.dataSync();
  assert.deepEqual(fused, scaledDotProductAttention(q, k, v, mask, 0.3).output.dataSync());
  const withProbs = scaledDotProductAttention(q, k, v, "causal", 0.3, { returnProbs: true });
  const reference = scaledDotProductAttention(q, k, v, mask, 0.3, { returnProbs: true });
  assert.deepEqual(withProbs.probs?.dataSync(), reference.probs?.dataSync());
  const a = withProbs.output.dataSync();
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs((a[i] as number) - (fused[i] as number)) < 1e-5);
});
