// The fused crossEntropy primitive: the cpu kernels against the js reference (strided rows,
// ignored rows, label smoothing, int32/int64 targets, vocabularies past the kernel's chunk),
// gradients against finite differences on both backends, and its errors.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  apply,
  crossEntropy,
  gradcheck,
  listBackends,
  logSoftmax,
  manualSeed,
  randint,
  randn,
  reshape,
  slice,
  type Tensor,
  tensor,
  withBackend,
} from "../../index.ts";

const backends = listBackends();
const values = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

function close(got: number[], want: number[], tol: number, what: string): void {
  assert.equal(got.length, want.length, what);
  want.forEach((w, i) => {
    const g = got[i] as number;
    assert.ok(Math.abs(g - w) <= tol * (1 + Math.abs(w)), `${what}[${i}]: ${g} vs ${w}`);
  });
}

/** Targets in [0, v) with every third row set to ignoreIndex −100. */
function targets(n: number, v: number, dtype: "int64" | "int32"): Tensor {
  const t = Array.from(randint(0, v, [n]).dataSync() as BigInt64Array, Number);
  return tensor(
    t.map((x, i) => (i % 3 === 1 ? -100 : x)),
    { dtype },
  );
}

describe("crossEntropy primitive", () => {
  test("cpu kernels match the js reference: loss, lse and the fused backward", {
    skip: !backends.includes("cpu"),
  }, () => {
    manualSeed(3);
    for (const [n, v, eps, dtype] of [
      [5, 7, 0, "int64"],
      [33, 2049, 0.1, "int32"],
      [9, 5000, 0, "int64"],
      [4, 50257, 0.2, "int64"],
    ] as const) {
      // Logits as a row-strided view (a slice of wider rows), the layout a shifted LM head gives.
      const wide = randn([n, v + 3]).mul(4);
      const x = slice(wide, 1, 2, v + 2);
      const t = targets(n, v, dtype);
      const g = randn([n]);
      const attrs = { ignoreIndex: -100, labelSmoothing: eps };
      const run = (backend: string) =>
        withBackend(backend, () => {
          const [loss, lse] = apply("crossEntropy", [x, t], attrs) as [Tensor, Tensor];
          const [dx] = apply("crossEntropyBackward", [x, t, lse, g], attrs) as [Tensor];
          return { loss: values(loss), lse: values(lse), dx: values(dx) };
        });
      const want = run("js");
      const got = run("cpu");
      close(got.lse, want.lse, 1e-6, `lse ${n}x${v}`);
      close(got.loss, want.loss, 1e-5, `loss ${n}x${v}`);
      close(got.dx, want.dx, 1e-5, `dx ${n}x${v}`);
      // Ignored rows: zero loss, zero gradient.
      assert.equal(got.loss[1], 0);
      assert.ok(got.dx.slice(v, 2 * v).every((d) => d === 0));
    }
  });

  test("matches −logSoftmax at the target, with smoothing and a mean over non-ignored rows", () => {
    manualSeed(4);
    for (const backend of backends) {
      withBackend(backend, () => {
        const x = randn([6, 11]);
        const t = targets(6, 11, "int64");
        const lsm = logSoftmax(x, -1).dataSync() as Float32Array;
        const tv = Array.from(t.dataSync() as BigInt64Array, Number);
        const eps = 0.25;
        let total = 0;
        let count = 0;
        tv.forEach((c, r) => {
          if (c === -100) return;
          let mean = 0;
          for (let j = 0; j < 11; j++) mean += lsm[r * 11 + j] as number;
          total += -(1 - eps) * (lsm[r * 11 + c] as number) - (eps * mean) / 11;
          count++;
        });
        close([crossEntropy(x, t, { labelSmoothing: eps }).item()], [total / count], 1e-5, backend);
      });
    }
  });

  for (const backend of backends) {
    test(`gradients match finite differences on ${backend}`, () => {
      withBackend(backend, () => {
        manualSeed(5);
        const x = randn([4, 6]).requiresGrad_();
        const t = tensor([1, -100, 5, 0], { dtype: "int64" });
        for (const reduction of ["mean", "sum", "none"] as const) {
          assert.deepEqual(
            gradcheck((a) => crossEntropy(a, t, { reduction, labelSmoothing: 0.1 }), [x]),
            [],
          );
        }
        // The saved log-sum-exp is differentiable too (∂lse/∂x = softmax).
        assert.deepEqual(
          gradcheck((a) => (apply("crossEntropy", [a, t], { ignoreIndex: -100 }) as Tensor[])[1] as Tensor, [x]),
          [],
        );
        // Class dim 1 of a [N, C, d] input.
        const x3 = randn([2, 5, 3]).requiresGrad_();
        const t3 = reshape(tensor([0, 4, -100, 2, 1, 3], { dtype: "int64" }), [2, 3]);
        assert.deepEqual(
          gradcheck((a) => crossEntropy(a, t3), [x3]),
          [],
        );
      });
    });
  }

  test("a target outside the classes is an index error on every backend, from the primitive too", () => {
    for (const backend of backends) {
      withBackend(backend, () => {
        const x = randn([2, 3]);
        assert.throws(() => apply("crossEntropy", [x, tensor([0, 3], { dtype: "int64" })], {}), {
          code: "HEARTH_TENSOR_INDEX",
          message: /crossEntropy\w*: target 3 of row 1 is outside \[0, 3\)/,
        });
        assert.throws(() => apply("crossEntropy", [x, tensor([0, 1, 2], { dtype: "int64" })], {}), {
          code: "HEARTH_TENSOR_SHAPE",
        });
        assert.throws(() => apply("crossEntropy", [x, tensor([0, 1], { dtype: "int64" })], { labelSmoothing: 2 }), {
          code: "HEARTH_TENSOR_ARGUMENT",
        });
      });
    }
  });
});
