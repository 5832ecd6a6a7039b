import assert from "node:assert/strict";
import { test } from "node:test";
import { add, keep, liveStorages, ones, scope, sum, type Tensor, tensor } from "../index.ts";

test("scope disposes temporaries, keeps returned tensors (also inside arrays/objects) and keep()-ed ones", () => {
  const base = liveStorages();
  let temp: Tensor | null = null;
  let kept: Tensor | null = null;
  const out = scope(() => {
    temp = add(ones([3]), 1);
    kept = keep(add(ones([3]), 2));
    return { result: add(temp, 1), list: [ones([1])] };
  });
  assert.equal((temp as unknown as Tensor).disposed, true);
  assert.equal((kept as unknown as Tensor).disposed, false);
  assert.deepEqual(out.result.tolistSync(), [3, 3, 3]);
  assert.equal(out.list[0]?.disposed, false);
  assert.equal(liveStorages(), base + 3);
});

test("scope returns typed arrays (dataSync results) as they are, beside the tensors it keeps", () => {
  const base = liveStorages();
  const out = scope(() => {
    const logits = add(ones([2, 3]), 1);
    return { values: logits.dataSync(), buffer: new ArrayBuffer(8), kept: sum(logits) };
  });
  assert.deepEqual(Array.from(out.values as Float32Array), [2, 2, 2, 2, 2, 2]);
  assert.equal(out.buffer.byteLength, 8);
  assert.equal(out.kept.disposed, false);
  assert.deepEqual(out.kept.tolistSync(), 12);
  assert.equal(liveStorages(), base + 1);
});

test("nested scopes hand returned tensors to the enclosing scope", () => {
  let inner: Tensor | null = null;
  scope(() => {
    inner = scope(() => add(ones([2]), 1));
    assert.equal(inner.disposed, false);
  });
  assert.equal((inner as unknown as Tensor).disposed, true);
});

test("disposing a view leaves the base alive; leaf gradients survive the step's scope", () => {
  const w = tensor([1, 2, 3]).requiresGrad_();
  const v = w.reshape([3, 1]);
  v.dispose();
  assert.deepEqual(w.tolistSync(), [1, 2, 3]);
  scope(() => sum(w.mul(w)).backward());
  assert.deepEqual(w.grad?.tolistSync(), [2, 4, 6]);
  assert.throws(
    () => v.tolistSync(),
    (e: { code: string }) => e.code === "HEARTH_TENSOR_DISPOSED",
  );
});

test("parameters and buffers registered inside a scope survive it", async () => {
  const { Linear } = await import("../index.ts");
  const layer = scope(() => new Linear(2, 2));
  assert.equal(layer.weight.disposed, false);
  assert.equal(layer.bias?.disposed, false);
});
