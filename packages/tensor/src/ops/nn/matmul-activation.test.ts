// matmul/addmm with `activation` (the activation applied by the product's own op) against the
// same product followed by the activation op: bit for bit on every backend (on `cpu` the GEMM's
// threads apply the activation kernel to each finished tile; GPT-2's c_fc shape with its weight
// pre-packed, few-row, batched, transposed-weight and residual cases); a result that records a
// gradient takes the separate ops (same values and gradients); the primitive's own backward
// (which recomputes the product) against the composite's gradients and finite differences.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  addmm,
  gelu,
  gradcheck,
  listBackends,
  manualSeed,
  matmul,
  noGrad,
  randn,
  silu,
  type Tensor,
  to,
  transpose,
  withBackend,
} from "../../index.ts";
import { apply1 } from "../apply.ts";
import type { ProductActivation } from "../primitives.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);
const separate = (t: Tensor, act: ProductActivation) =>
  act === "silu" ? silu(t) : gelu(t, act === "geluTanh" ? "tanh" : "none");

function same(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const g = data(got);
  const w = data(want);
  for (let i = 0; i < w.length; i++) {
    if (!Object.is(g[i], w[i])) assert.fail(`${what}[${i}]: ${g[i]} vs ${w[i]}`);
  }
}

const ACTS: ProductActivation[] = ["gelu", "geluTanh", "silu"];

for (const backend of listBackends()) {
  describe(`matmul's activation on '${backend}' equals the activation op after the product`, () => {
    test("addmm and matmul with an activation, fused (no gradient recorded)", () => {
      manualSeed(11);
      withBackend(backend, () => {
        const shapes: [number[], number[], boolean][] = [
          [[3, 45], [45, 37], false],
          [[1, 70], [70, 33], false], // one row: the matrix-vector path
          [[2, 5, 45], [45, 37], false], // a batch sharing the weight
          [[4, 70], [33, 70], true], // Linear layout: the weight transposed
        ];
        if (backend !== "js") shapes.push([[1, 128, 768], [768, 3072], false]); // GPT-2's c_fc
        for (const [aShape, bShape, t] of shapes) {
          const a = randn(aShape);
          const b = t ? transpose(randn(bShape), 0, 1) : randn(bShape);
          const n = b.shape[1] as number;
          const bias = randn([n]);
          for (const act of ACTS) {
            const what = `${act} ${JSON.stringify(aShape)}x${JSON.stringify(bShape)}`;
            const want = noGrad(() => separate(addmm(bias, a, b), act));
            // twice: the second product reads the weight pre-packed on the cpu backend
            for (let r = 0; r < 2; r++)
              same(
                noGrad(() => addmm(bias, a, b, { activation: act })),
                want,
                what,
              );
            same(
              noGrad(() => matmul(a, b, { activation: act })),
              noGrad(() => separate(matmul(a, b), act)),
              `matmul ${what}`,
            );
          }
        }
      });
    });

    test("with a residual, the activation comes after it", () => {
      manualSeed(12);
      withBackend(backend, () => {
        const [a, b, bias, res] = [randn([6, 40]), randn([40, 24]), randn([24]), randn([6, 24])] as Tensor[];
        const t = res as Tensor;
        const want = noGrad(() => gelu(addmm(bias as Tensor, a as Tensor, b as Tensor, { residual: t }), "tanh"));
        const got = noGrad(() =>
          addmm(bias as Tensor, a as Tensor, b as Tensor, { residual: t, activation: "geluTanh" }),
        );
        same(got, want, "residual then gelu");
        // a residual the product cannot add itself (not of the output's layout): add, then the op
        const tr = transpose(randn([24, 6]), 0, 1);
        same(
          noGrad(() => addmm(bias as Tensor, a as Tensor, b as Tensor, { residual: tr, activation: "silu" })),
          noGrad(() => silu(addmm(bias as Tensor, a as Tensor, b as Tensor, { residual: tr }))),
          "transposed residual then silu",
        );
      });
    });

    test("a 16-bit weight (float32 product) takes the activation too", () => {
      manualSeed(13);
      withBackend(backend, () => {
        const [a, w, bias] = [randn([5, 64]), to(randn([64, 48]), "bfloat16"), randn([48])] as Tensor[];
        same(
          noGrad(() => addmm(bias as Tensor, a as Tensor, w as Tensor, { activation: "gelu" })),
          noGrad(() => gelu(addmm(bias as Tensor, a as Tensor, w as Tensor))),
          "bf16 weight",
        );
      });
    });

    test("a result that records a gradient runs the separate ops: same values and gradients", () => {
      manualSeed(14);
      withBackend(backend, () => {
        const leaves = [randn([4, 9]), randn([9, 7]), randn([7])].map((t) => t.requiresGrad_());
        const [a, b, bias] = leaves as [Tensor, Tensor, Tensor];
        const fused = addmm(bias, a, b, { activation: "geluTanh" });
        const plain = gelu(addmm(bias, a, b), "tanh");
        same(fused, plain, "values");
        fused.sum().backward();
        const grads = leaves.map((t) => data(t.grad as Tensor));
        for (const t of leaves) t.grad = null;
        plain.sum().backward();
        leaves.forEach((t, i) => {
          assert.deepEqual(data(t.grad as Tensor), grads[i], `grad ${i}`);
        });
      });
    });

    test("the primitive's backward (product recomputed) matches the composite and finite differences", () => {
      manualSeed(15);
      withBackend(backend, () => {
        for (const act of ACTS) {
          const leaves = [randn([3, 5]), randn([5, 4]), randn([4])].map((t) => t.requiresGrad_());
          const [a, b, bias] = leaves as [Tensor, Tensor, Tensor];
          const prim = (x: Tensor, y: Tensor, z: Tensor) =>
            apply1("matmul", [x, y, z], { bias: true, activation: act });
          prim(a, b, bias).sum().backward();
          const grads = leaves.map((t) => data(t.grad as Tensor));
          for (const t of leaves) t.grad = null;
          separate(addmm(bias, a, b), act)
            .sum()
            .backward();
          leaves.forEach((t, i) => {
            const want = data(t.grad as Tensor);
            want.forEach((v, j) => {
              assert.ok(
                Math.abs(v - (grads[i]?.[j] as number)) <= 1e-5 * Math.max(1, Math.abs(v)),
                `${act} grad ${i}[${j}]`,
              );
            });
          });
          assert.deepEqual(
            gradcheck((x, y, z) => prim(x as Tensor, y as Tensor, z as Tensor), leaves),
            [],
            act,
          );
        }
      });
    });

    test("an unknown activation, or one on a 16-bit output, is refused", () => {
      withBackend(backend, () => {
        const [a, b] = [randn([2, 3]), randn([3, 4])] as Tensor[];
        assert.throws(() => matmul(a as Tensor, b as Tensor, { activation: "relu" as ProductActivation }), {
          code: "HEARTH_TENSOR_ARGUMENT",
        });
        const [ah, bh] = [to(a as Tensor, "bfloat16"), to(b as Tensor, "bfloat16")];
        assert.throws(() => apply1("matmul", [ah, bh], { activation: "gelu" }), { code: "HEARTH_TENSOR_ARGUMENT" });
      });
    });
  });
}
