// `addmm(bias, a, b)` (the matmul primitive with its bias input, which GPT-2's Conv1D and every
// Linear with a bias run) against the plain path `add(matmul(a, b), bias)` on every backend:
// odd sizes (vector tails in the GEMM and the few-row kernels), one to a few rows (decoding) and
// many (prefill), transposed and sliced operands, batches with a shared weight, a 16-bit weight
// with a float32 product, biases that are strided or broadcast the other way (not fused), and
// the gradients of all three inputs against the plain path's and finite differences; a float32
// input times a 16-bit weight (rounded in the product) against casting the input first; a
// residual added in the product's pass against adding it after.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  add,
  addmm,
  gradcheck,
  linear,
  listBackends,
  manualSeed,
  matmul,
  mul,
  narrow,
  noGrad,
  randn,
  type Tensor,
  to,
  transpose,
  withBackend,
} from "../../index.ts";
import { apply1 } from "../apply.ts";
import { markAutocastOperand } from "./autocast.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

function close(got: Tensor, want: Tensor, rtol: number, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  const g = data(got);
  const w = data(want);
  const mag = Math.max(1, ...w.map(Math.abs));
  for (let i = 0; i < w.length; i++) {
    assert.ok(Math.abs((g[i] as number) - (w[i] as number)) <= rtol * mag, `${what}[${i}]: ${g[i]} vs ${w[i]}`);
  }
}

interface Case {
  name: string;
  /** a [.., M, K], b [K, N] (possibly a view), bias [N] */
  make: () => { a: Tensor; b: Tensor; bias: Tensor };
}

const cases: Case[] = [
  ...[1, 2, 3, 8, 9, 37].map((M) => ({
    name: `[${M}, 45] x [45, 37] (Conv1D layout)`,
    make: () => ({ a: randn([M, 45]), b: randn([45, 37]), bias: randn([37]) }),
  })),
  {
    name: "[1, 70] x transposed [33, 70] (Linear layout)",
    make: () => ({ a: randn([1, 70]), b: transpose(randn([33, 70]), 0, 1), bias: randn([33]) }),
  },
  {
    name: "[5, 70] x transposed [33, 70] (Linear layout)",
    make: () => ({ a: randn([5, 70]), b: transpose(randn([33, 70]), 0, 1), bias: randn([33]) }),
  },
  {
    name: "batch [3, 4, 19] x shared [19, 21]",
    make: () => ({ a: randn([3, 4, 19]), b: randn([19, 21]), bias: randn([21]) }),
  },
  {
    name: "batch [2, 1, 19] (decoding rows) x shared [19, 130]",
    make: () => ({ a: randn([2, 1, 19]), b: randn([19, 130]), bias: randn([130]) }),
  },
  {
    name: "sliced a, sliced b, strided bias",
    make: () => ({
      a: narrow(randn([6, 40]), 1, 3, 31),
      b: narrow(randn([31, 50]), 1, 5, 29),
      bias: narrow(randn([58]), 0, 0, 29).reshape([29]),
    }),
  },
  {
    name: "batched b [2, 17, 23]",
    make: () => ({ a: randn([2, 3, 17]), b: randn([2, 17, 23]), bias: randn([23]) }),
  },
];

for (const backend of listBackends()) {
  describe(`addmm on '${backend}' equals add(matmul) on 'js'`, () => {
    for (const c of cases) {
      test(c.name, () => {
        manualSeed(3);
        const { a, b, bias } = withBackend("js", c.make);
        const want = withBackend("js", () => noGrad(() => add(matmul(a, b), bias)));
        const got = withBackend(backend, () => noGrad(() => addmm(bias, a, b)));
        close(got, want, 2e-6, c.name);
      });
    }

    test("a bfloat16 weight: float32 product plus float32 bias, as the plain path", () => {
      manualSeed(4);
      for (const M of [1, 3, 11]) {
        const { x, w, bias } = withBackend("js", () => ({
          x: randn([M, 66]),
          w: to(randn([66, 47]), "bfloat16"),
          bias: randn([47]),
        }));
        const want = withBackend(backend, () => noGrad(() => add(matmul(x, w), bias)));
        const got = withBackend(backend, () => noGrad(() => addmm(bias, x, w)));
        assert.equal(got.dtype, "float32");
        close(got, want, 1e-6, `bf16 weight, M ${M}`);
      }
    });

    test("a float32 input times a 16-bit weight (rounded inside the product) equals casting it first, bit for bit, gradients too", () => {
      manualSeed(8);
      for (const dtype of ["bfloat16", "float16"] as const) {
        const inputs = withBackend("js", () => [
          { x: randn([1, 40]), w: to(randn([40, 33]), dtype) },
          { x: randn([2, 3, 40]), w: to(randn([40, 33]), dtype) },
          { x: randn([9, 40]), w: transpose(to(randn([33, 40]), dtype), 0, 1) },
          { x: narrow(randn([5, 47]), 1, 4, 40), w: to(randn([40, 33]), dtype) },
          { x: transpose(randn([40, 6]), 0, 1), w: to(randn([40, 33]), dtype) },
        ]);
        for (const { x, w } of inputs) {
          const what = `${dtype} weight, x ${x.describe()}`;
          withBackend(backend, () => {
            const got = noGrad(() => matmul(x, w));
            // the former path: a cast op (its float32 gradient kept wide), then the 16-bit product
            // kept in float32
            const castFirst = (a: Tensor, b: Tensor) =>
              apply1("matmul", [markAutocastOperand(to(a, dtype)), b], { outDtype: "float32" });
            const want = noGrad(() => castFirst(x, w));
            assert.equal(got.dtype, "float32", what);
            assert.deepEqual(data(got), Array.from(want.dataSync() as Float32Array), what);
            const leaves = [x.detach().requiresGrad_(), w.detach().requiresGrad_()] as [Tensor, Tensor];
            matmul(leaves[0], leaves[1]).sum().backward();
            const direct = leaves.map((t) => data(t.grad as Tensor));
            for (const t of leaves) t.grad = null;
            castFirst(leaves[0], leaves[1]).sum().backward();
            leaves.forEach((t, i) => {
              assert.deepEqual(data(t.grad as Tensor), direct[i], `${what}: grad ${i}`);
            });
          });
        }
      }
    });

    test("a residual of the output's shape is added by the product's op, bit for bit as add(residual, addmm)", () => {
      manualSeed(9);
      for (const c of cases) {
        const { a, b, bias, residual, w16 } = withBackend("js", () => {
          const made = c.make();
          const shape = noGrad(() => matmul(made.a, made.b)).shape;
          return { ...made, residual: randn([...shape]), w16: to(made.b, "bfloat16") };
        });
        const want = withBackend("js", () => noGrad(() => add(residual, add(matmul(a, b), bias))));
        const got = withBackend(backend, () => noGrad(() => addmm(bias, a, b, { residual })));
        close(got, want, 2e-6, `${c.name} + residual`);
        const separate = withBackend(backend, () => noGrad(() => add(residual, addmm(bias, a, b))));
        assert.deepEqual(data(got), data(separate), `${c.name} + residual: bit for bit`);
        // a strided residual (a transposed copy's transpose) and a 16-bit weight
        const strided = withBackend("js", () => transpose(transpose(residual, -1, -2).contiguous(), -1, -2));
        const low = withBackend(backend, () => noGrad(() => addmm(bias, a, w16, { residual: strided })));
        const lowWant = withBackend(backend, () => noGrad(() => add(residual, addmm(bias, a, w16))));
        assert.deepEqual(data(low), data(lowWant), `${c.name} + strided residual, bf16 weight`);
        // matmul's residual, without a bias
        const plain = withBackend(backend, () => noGrad(() => matmul(a, b, { residual })));
        const plainWant = withBackend(backend, () => noGrad(() => add(residual, matmul(a, b))));
        assert.deepEqual(data(plain), data(plainWant), `${c.name}: matmul + residual, bit for bit`);
      }
      // gradients: the residual's is the output's, the others as without it
      withBackend(backend, () => {
        const leaves = [randn([2, 3, 5]), randn([5, 4]), randn([4]), randn([2, 3, 4])].map((t) => t.requiresGrad_());
        const [x, w, bias, r] = leaves as [Tensor, Tensor, Tensor, Tensor];
        mul(addmm(bias, x, w, { residual: r }), w.sum())
          .sum()
          .backward();
        const fused = leaves.map((t) => data(t.grad as Tensor));
        for (const t of leaves) t.grad = null;
        mul(add(r, add(matmul(x, w), bias)), w.sum())
          .sum()
          .backward();
        leaves.forEach((t, i) => {
          const plain = data(t.grad as Tensor);
          plain.forEach((v, j) => {
            assert.ok(Math.abs(v - (fused[i]?.[j] as number)) <= 1e-5 * Math.max(1, Math.abs(v)), `grad ${i}[${j}]`);
          });
        });
      });
    });

    test("a bias that is not a vector [N] of the product's dtype is broadcast by add", () => {
      manualSeed(5);
      const { a, b, column, half } = withBackend("js", () => ({
        a: randn([4, 9]),
        b: randn([9, 7]),
        column: randn([4, 1]),
        half: to(randn([7]), "bfloat16"),
      }));
      for (const bias of [column, half]) {
        const want = withBackend("js", () => noGrad(() => add(matmul(a, b), bias)));
        const got = withBackend(backend, () => noGrad(() => addmm(bias, a, b)));
        close(got, want, 2e-6, `bias ${bias.describe()}`);
      }
    });

    test("linear(x, weight, bias) is x·weightᵀ + bias", () => {
      manualSeed(6);
      const { x, w, bias } = withBackend("js", () => ({ x: randn([2, 3, 10]), w: randn([6, 10]), bias: randn([6]) }));
      const want = withBackend("js", () => noGrad(() => add(matmul(x, transpose(w, 0, 1)), bias)));
      const got = withBackend(backend, () => noGrad(() => linear(x, w, bias)));
      close(got, want, 2e-6, "linear");
    });

    test("gradients of bias, a and b equal the plain path's and finite differences", () => {
      manualSeed(7);
      withBackend(backend, () => {
        for (const [aShape, bShape] of [
          [
            [3, 5],
            [5, 4],
          ],
          [
            [2, 3, 5],
            [5, 4],
          ],
          [
            [1, 5],
            [5, 9],
          ],
        ] as const) {
          const leaves = [randn([...aShape]), randn([...bShape]), randn([bShape[1]])].map((t) => t.requiresGrad_());
          const [a, b, bias] = leaves as [Tensor, Tensor, Tensor];
          addmm(bias, a, b).sum().backward();
          const fused = leaves.map((t) => data(t.grad as Tensor));
          for (const t of leaves) t.grad = null;
          add(matmul(a, b), bias).sum().backward();
          leaves.forEach((t, i) => {
            assert.deepEqual(data(t.grad as Tensor), fused[i], `grad ${i} for a ${aShape}`);
          });
          assert.deepEqual(
            gradcheck(
              (x, y, z) => addmm(z as Tensor, x as Tensor, transpose(transpose(y as Tensor, 0, 1), 0, 1)),
              leaves,
            ),
            [],
          );
        }
      });
    });
  });
}
