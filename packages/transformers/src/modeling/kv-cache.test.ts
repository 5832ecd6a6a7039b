import assert from "node:assert/strict";
import { test } from "node:test";
import { cat, manualSeed, noGrad, randn, tensor, transpose } from "@hearth/tensor";
import { HF_TINY } from "../../test/golden.ts";
import { LlamaForCausalLM } from "../models/llama/index.ts";
import { decoderAttentionMask, scaledDotProductAttention } from "./attention.ts";
import { KVCache } from "./kv-cache.ts";

test("KVCache: feeding a prompt in pieces gives the logits of one full pass, growing past its capacity", async () => {
  const model = await LlamaForCausalLM.fromPretrained(`${HF_TINY}models/llama`);
  const ids = [5, 17, 42, 99, 123, 7, 256, 511];
  noGrad(() => {
    const full = model.forward({ inputIds: tensor([ids], { dtype: "int64" }) }).logits;
    const cache = new KVCache({ capacity: 2 });
    const parts = [ids.slice(0, 3), ids.slice(3, 4), ids.slice(4, 8)].map(
      (p) => model.forward({ inputIds: tensor([p], { dtype: "int64" }), pastKeyValues: cache }).logits,
    );
    assert.equal(cache.getSeqLength(), 8);
    assert.ok(cache.capacity >= 8);
    const pieced = cat(parts, 1).dataSync() as Float32Array;
    const expected = full.dataSync() as Float32Array;
    let worst = 0;
    for (let i = 0; i < expected.length; i++)
      worst = Math.max(worst, Math.abs((pieced[i] as number) - (expected[i] as number)));
    assert.ok(worst < 1e-4, `largest difference ${worst}`);
    cache.dispose();
  });
});

test("KVCache: appending one position into a reserved buffer does not reallocate", () => {
  const cache = new KVCache({ capacity: 16 });
  const k = tensor(new Float32Array(2 * 3 * 1 * 4), { shape: [2, 3, 1, 4] });
  const first = cache.update(0, k, k);
  const storage = first.keys.storage;
  for (let i = 0; i < 10; i++) cache.update(0, k, k);
  const last = cache.update(0, k, k);
  assert.equal(last.keys.storage, storage);
  assert.deepEqual(last.keys.shape, [2, 3, 12, 4]);
  assert.throws(
    () => cache.update(0, tensor(new Float32Array(4), { shape: [1, 1, 1, 4] }), k),
    /batch, heads and head size must match/,
  );
});

test("KVCache: reorder picks batch rows (beam search)", () => {
  const cache = new KVCache();
  const k = tensor([[[[1]]], [[[2]]], [[[3]]]]);
  cache.update(0, k, k);
  cache.reorder([2, 2, 0]);
  const { keys } = cache.update(0, k, k);
  assert.deepEqual(keys.tolistSync(), [[[[3], [1]]], [[[3], [2]]], [[[1], [3]]]]);
});

test("KVCache.attend: one op gives what update and attention give, through growth and a padding mask", () => {
  manualSeed(5);
  noGrad(() => {
    const [ours, theirs] = [new KVCache({ capacity: 3 }), new KVCache({ capacity: 3 })];
    // batch row 1 left-padded by two positions
    const pad = [1, 1, 0, 0, 1, 1, 1, 1];
    let past = 0;
    for (const T of [4, 1, 1, 2]) {
      const [q, k, v] = [randn([2, 4, T, 8]), randn([2, 2, T, 8]), randn([2, 2, T, 8])];
      const rows = [Array(past + T).fill(1), pad.slice(0, past + T)];
      const mask = decoderAttentionMask(tensor(rows, { dtype: "int64" }), T, past, "float32");
      const got = ours.attend(0, q, k, v, mask, 0.3).dataSync() as Float32Array;
      const kv = theirs.update(0, k, v);
      const want = transpose(scaledDotProductAttention(q, kv.keys, kv.values, mask, 0.3).output, 1, 2);
      const w = want.contiguous().dataSync() as Float32Array;
      assert.equal(got.length, w.length);
      for (let i = 0; i < w.length; i++)
        assert.ok(Math.abs((got[i] as number) - (w[i] as number)) < 1e-5, `T ${T}, ${i}`);
      past += T;
      assert.equal(ours.getSeqLength(), past);
    }
    assert.ok(ours.capacity >= 8);
  });
});
