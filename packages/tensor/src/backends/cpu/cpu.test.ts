// The `cpu` backend against the `js` reference on tensors big enough to take the native
// kernels' threaded paths (the shared conformance suite covers the small cases).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  amax,
  apply1,
  gather,
  HearthTensorError,
  indexSelect,
  listBackends,
  manualSeed,
  matmul,
  randint,
  randn,
  scatterAdd,
  slice,
  sum,
  type Tensor,
  tensor,
  withBackend,
} from "../../index.ts";

const hasCpu = listBackends().includes("cpu");

function close(got: Tensor, want: Tensor, rtol = 1e-5): void {
  assert.deepEqual(got.shape, want.shape);
  const g = Array.from(got.dataSync() as ArrayLike<number | bigint>, Number);
  const w = Array.from(want.dataSync() as ArrayLike<number | bigint>, Number);
  let scale = 1e-30;
  for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i] as number));
  for (let i = 0; i < w.length; i++) {
    const a = g[i] as number;
    const b = w[i] as number;
    if (Number.isNaN(b)) assert.ok(Number.isNaN(a));
    else assert.ok(Math.abs(a - b) <= rtol * scale, `element ${i}: ${a} vs ${b}`);
  }
}

/** Runs fn on both backends with the same inputs (built on js) and compares. */
function same(make: () => Tensor[], fn: (...xs: Tensor[]) => Tensor, rtol?: number): void {
  const inputs = withBackend("js", make);
  close(
    withBackend("cpu", () => fn(...inputs)),
    withBackend("js", () => fn(...inputs)),
    rtol,
  );
}

describe("cpu backend on large tensors", { skip: hasCpu ? false : "the native addon is not built" }, () => {
  manualSeed(3);
  test("unary ops on a transposed 300x400 view", () => {
    for (const op of ["exp", "tanh", "sigmoid", "relu", "erf", "neg"]) {
      same(
        () => [randn([400, 300])],
        (x) => apply1(op, [x.transpose(0, 1)]),
      );
    }
  });

  test("binary ops with broadcasting over 200k elements", () => {
    for (const op of ["add", "sub", "mul", "div", "maximum", "minimum"]) {
      same(
        () => [randn([50, 1, 400]), randn([10, 400])],
        (a, b) => apply1(op, [a, b]),
      );
    }
    same(
      () => [randn([1, 300000]), randn([1])],
      (a, b) => apply1("add", [a, b]),
    );
  });

  test("sum and amax over leading, trailing and strided dims", () => {
    same(
      () => [randn([60, 70, 50])],
      (x) => sum(x, [0, 2]),
    );
    same(
      () => [randn([60, 70, 50])],
      (x) => sum(x.transpose(0, 2), [2], true),
    );
    same(
      () => [randn([300, 500])],
      (x) => amax(x, [1]),
    );
    same(
      () => [randn([300, 500])],
      (x) => sum(x),
    );
  });

  test("where with broadcast condition and operands", () => {
    for (const dtype of ["float32", "bfloat16", "int64"] as const) {
      same(
        () => [randn([300, 1, 400]).gt(0), randn([50, 400]).mul(9).to(dtype), randn([300, 50, 1]).mul(9).to(dtype)],
        (c, a, b) => apply1("where", [c, a, b]),
      );
    }
  });

  test("gather, indexSelect and scatterAdd with negative and repeated indices", () => {
    same(
      () => [randn([50, 300]), randint(-50, 50, [700])],
      (w, ids) => indexSelect(w, 0, ids),
    );
    // rows copied whole (an index broadcast along a unit-stride last dim), other dims, strided x
    same(
      () => [randn([6, 20, 9]).to("bfloat16"), randint(-20, 20, [13])],
      (x, ids) => indexSelect(x, 1, ids),
    );
    same(
      () => [randn([9, 50]), randint(0, 50, [7])],
      (x, ids) => indexSelect(x.transpose(0, 1), 0, ids),
    );
    same(
      () => [randn([40, 30]).to("bfloat16"), randint(-30, 30, [40, 12])],
      (x, idx) => gather(x, 1, idx),
    );
    same(
      () => [randn([30, 200]), randint(0, 30, [500, 200]), randn([500, 200])],
      (x, idx, src) => scatterAdd(x, 0, idx, src),
    );
    assert.throws(
      () => withBackend("cpu", () => indexSelect(randn([4, 2]), 0, randint(4, 5, [3]))),
      (e: Error & { code?: string }) => e instanceof HearthTensorError && e.code === "HEARTH_TENSOR_INDEX",
    );
    // the row path names the same element as the element-wise walk (first bad position)
    const bad = tensor([1, 2, -9, 7], { dtype: "int64" });
    const message = (x: Tensor) => {
      try {
        withBackend("cpu", () => indexSelect(x, 0, bad));
      } catch (e) {
        return (e as Error).message;
      }
      return "";
    };
    const w = randn([5, 3]);
    assert.match(message(w), /-9/);
    assert.equal(message(w), message(w.transpose(0, 1).contiguous().transpose(0, 1)));
  });

  test("contiguous copies of permuted views for every element size", () => {
    for (const dtype of ["float32", "bfloat16", "int64", "uint8", "int32"] as const) {
      same(
        () => [randn([30, 40, 70]).mul(10).to(dtype)],
        (x) => x.permute([2, 0, 1]).contiguous(),
      );
    }
  });

  test("batched, broadcast and transposed matmul in float32, float16 and bfloat16", () => {
    same(
      () => [randn([3, 1, 70, 130]), randn([2, 130, 90])],
      (a, b) => matmul(a, b),
    );
    same(
      () => [randn([200, 150]), randn([260, 150])],
      (a, b) => matmul(a, b.transpose(0, 1)),
    );
    // A weight shared by every batch (x·Wᵀ as linear does): folded into one [2·3·50, 64] GEMM.
    same(
      () => [randn([2, 3, 50, 64]), randn([33, 64])],
      (a, b) => matmul(a, b.transpose(0, 1)),
    );
    // One row per batch item at a stride (the last position of each sequence, as a batched
    // prompt's logits take it) times a shared weight: one product of 6 rows at that stride.
    for (const dtype of ["float32", "bfloat16"] as const) {
      same(
        () => [randn([2, 3, 7, 64]), randn([300, 64]).to(dtype)],
        (a, b) => matmul(slice(a, 2, 6, 7), b.transpose(0, 1)),
        dtype === "float32" ? 1e-5 : 8e-3,
      );
    }
    // float32 activations times a bfloat16 weight: multiplied in bf16, returned float32.
    same(
      () => [randn([2, 5, 64]), randn([64, 300]).to("bfloat16")],
      (a, b) => matmul(a, b),
      8e-3,
    );
    for (const dtype of ["float16", "bfloat16"] as const) {
      same(
        () => [randn([2, 40, 64]).to(dtype), randn([64, 33]).to(dtype)],
        (a, b) => matmul(a, b),
        dtype === "float16" ? 2e-3 : 8e-3,
      );
    }
  });
});
