// Gradients of slices of one graph tensor are gathered by the engine (one `cat` when they tile
// a dim, padded sums otherwise): every layout must give the plain slice formula's gradients.
import assert from "node:assert/strict";
import { test } from "node:test";
import { gradcheck, listBackends, manualSeed, mul, randn, slice, split, type Tensor, withBackend } from "../index.ts";

const data = (t: Tensor) => Array.from(t.dataSync() as Float32Array);

for (const backend of listBackends()) {
  test(`slice gradients of a graph tensor: split, partial, overlapping, mixed with direct use (${backend})`, () => {
    withBackend(backend, () => {
      manualSeed(4);
      const cases: [string, (x: Tensor) => Tensor][] = [
        [
          "split in 3 on the last dim",
          (x) => {
            const [a, b, c] = split(mul(x, 2), 3, -1) as [Tensor, Tensor, Tensor];
            return mul(a, b).add(c.mul(3)).sum();
          },
        ],
        ["split with one piece unused", (x) => (split(mul(x, 2), [2, 3, 4], 1)[1] as Tensor).sum()],
        [
          "overlapping slices",
          (x) =>
            slice(mul(x, 2), 1, 0, 6)
              .sum()
              .add(mul(slice(mul(x, 2), 1, 3, 9), 2).sum()),
        ],
        [
          "slices plus the whole tensor",
          (x) => {
            const y = mul(x, x);
            const [a, b] = split(y, [4, 5], 1) as [Tensor, Tensor];
            return a.sum().add(b.mul(b).sum()).add(y.mul(0.5).sum());
          },
        ],
        [
          "slices on dim 0 of a transposed view",
          (x) => {
            const y = mul(x, 1.5).transpose(0, 1);
            const [a, b, c] = split(y, 3, 0) as [Tensor, Tensor, Tensor];
            return a.mul(c).sum().add(b.sum());
          },
        ],
      ];
      for (const [name, f] of cases) {
        const mismatches = gradcheck(f, [randn([3, 9]).requiresGrad_()]);
        assert.deepEqual(mismatches, [], name);
      }
    });
  });
}

test("a split's gradient is one fresh tensor with every piece in place", () => {
  const x = randn([2, 6]).requiresGrad_();
  const [a, b] = split(mul(x, 1), 3, 1) as [Tensor, Tensor];
  mul(a, 2).add(mul(b, 5)).sum().backward();
  assert.deepEqual(data(x.grad as Tensor), [2, 2, 2, 5, 5, 5, 2, 2, 2, 5, 5, 5]);
});
