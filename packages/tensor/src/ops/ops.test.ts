import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  add,
  arange,
  argmax,
  cat,
  chunk,
  conv2d,
  crossEntropy,
  cumsum,
  div,
  exp,
  eye,
  full,
  gather,
  gelu,
  indexSelect,
  linspace,
  logsumexp,
  manualSeed,
  matmul,
  max,
  mean,
  multinomial,
  noGrad,
  ones,
  rand,
  randint,
  randn,
  reshape,
  scaledDotProductAttention,
  scatterAdd,
  softmax,
  sort,
  split,
  stack,
  std,
  sum,
  type Tensor,
  tensor,
  topk,
  transpose,
  tril,
  triu,
  variance,
  zeros,
} from "../index.ts";

const close = (a: number[], b: number[], tol = 1e-5) => {
  assert.equal(a.length, b.length);
  for (const [i, v] of a.entries()) {
    assert.ok(Math.abs(v - (b[i] as number)) <= tol * (1 + Math.abs(b[i] as number)), `${i}: ${v} vs ${b[i]}`);
  }
};
const flat = (t: Tensor) => Array.from(t.dataSync(), Number);

describe("views share storage", () => {
  test("transpose, slice, reshape, expand, squeeze copy nothing; contiguous copies", () => {
    const x = arange(6).reshape([2, 3]);
    for (const v of [
      x.transpose(),
      x.slice(1, 1, 3),
      x.reshape([3, 2]),
      x.unsqueeze(0).expand([4, 2, 3]),
      x.unsqueeze(1).squeeze(),
    ]) {
      assert.equal(v.storage, x.storage);
    }
    const t = x.transpose();
    assert.equal(t.isContiguous(), false);
    assert.deepEqual(t.strides, [1, 3]);
    assert.notEqual(t.contiguous().storage, x.storage);
    assert.deepEqual(t.tolistSync(), [
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
    assert.deepEqual(x.slice(1, 1).tolistSync(), [
      [1, 2],
      [4, 5],
    ]);
    assert.equal(x.slice(1, 1).offset, 1);
  });

  test("view of a non-viewable layout throws; reshape copies instead", () => {
    const t = arange(6).reshape([2, 3]).transpose();
    assert.throws(
      () => t.view([6]),
      (e: { code: string }) => e.code === "HEARTH_TENSOR_NOT_CONTIGUOUS",
    );
    assert.deepEqual(t.reshape([6]).tolistSync(), [0, 3, 1, 4, 2, 5]);
    // a transposed size-1 dim is still viewable
    assert.equal(arange(3).reshape([3, 1]).transpose().view([3]).storage !== undefined, true);
  });
});

describe("elementwise and promotion", () => {
  test("broadcast add and scalar promotion", () => {
    const a = tensor([[1], [2]]);
    assert.deepEqual(add(a, tensor([10, 20, 30])).tolistSync(), [
      [11, 21, 31],
      [12, 22, 32],
    ]);
    const i = tensor([1, 2, 3], { dtype: "int32" });
    assert.equal(add(i, 1).dtype, "int32");
    assert.equal(add(i, 0.5).dtype, "float32");
    assert.equal(div(i, 2).dtype, "float32");
    assert.deepEqual(div(i, 2).tolistSync(), [0.5, 1, 1.5]);
    assert.equal(add(i, tensor([1], { dtype: "int64" })).dtype, "int64");
    assert.equal(add(tensor([1], { dtype: "bfloat16" }), tensor([1], { dtype: "float16" })).dtype, "float32");
  });

  test("gelu matches erf and tanh forms", () => {
    close(flat(gelu(tensor([1, -2]))), [0.8413447460685429, -0.04550026389635842]);
    close(flat(gelu(tensor([1]), "tanh")), [0.8411919906082768]);
  });

  test("float16 and bfloat16 casts round to nearest even; int64 casts are exact", () => {
    const x = tensor([1 + 2 ** -11, 1 + 3 * 2 ** -11, 70000]);
    assert.deepEqual(x.to("float16").tolistSync(), [1, 1 + 2 ** -9, Number.POSITIVE_INFINITY]);
    const big = tensor([2n ** 60n + 1n, -3n]);
    assert.equal(big.dtype, "int64");
    assert.deepEqual([...big.to("int32").dataSync()], [1, -3]);
    assert.deepEqual([...big.reshape([2, 1]).transpose().contiguous().dataSync()], [2n ** 60n + 1n, -3n]);
  });
});

describe("reductions", () => {
  const x = tensor([
    [1, 5, 2],
    [7, 0, 3],
  ]);
  test("sum, mean, var, std", () => {
    assert.deepEqual(sum(x, 0).tolistSync(), [8, 5, 5]);
    assert.deepEqual(sum(x, 1, true).tolistSync(), [[8], [10]]);
    assert.equal(sum(x).item(), 18);
    assert.equal(mean(x).item(), 3);
    close(flat(variance(x, 1)), [13 / 3, 37 / 3]);
    close(flat(std(x, 1, { correction: 0 })), [Math.sqrt(78 / 27), Math.sqrt(222 / 27)]);
    assert.equal(sum(tensor([true, true, false])).dtype, "int64");
  });
  test("max/argmax, cumsum, sort (stable), topk", () => {
    const m = max(x, 1);
    assert.deepEqual(m.values.tolistSync(), [5, 7]);
    assert.deepEqual(m.indices.tolistSync(), [1, 0]);
    assert.equal(argmax(x).item(), 3);
    assert.deepEqual(cumsum(x, 1).tolistSync(), [
      [1, 6, 8],
      [7, 7, 10],
    ]);
    const s = sort(tensor([3, 1, 3, 2]), 0, true);
    assert.deepEqual(s.values.tolistSync(), [3, 3, 2, 1]);
    assert.deepEqual(s.indices.tolistSync(), [0, 2, 3, 1]);
    assert.deepEqual(topk(x, 2, 1).indices.tolistSync(), [
      [1, 2],
      [0, 2],
    ]);
  });
  test("softmax rows sum to one; logsumexp handles -inf rows", () => {
    const p = softmax(randn([4, 7]), -1);
    close(flat(sum(p, -1)), [1, 1, 1, 1]);
    const l = logsumexp(
      tensor([
        [Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY],
        [0, 0],
      ]),
      1,
    );
    assert.deepEqual(flat(l), [Number.NEGATIVE_INFINITY, Math.fround(Math.log(2))]);
  });
});

describe("movement and indexing", () => {
  test("gather, scatterAdd, indexSelect", () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const idx = tensor(
      [
        [2, 0],
        [1, 1],
      ],
      { dtype: "int64" },
    );
    assert.deepEqual(gather(x, 1, idx).tolistSync(), [
      [3, 1],
      [5, 5],
    ]);
    assert.deepEqual(scatterAdd(zeros([2, 3]), 1, idx, ones([2, 2])).tolistSync(), [
      [1, 0, 1],
      [0, 2, 0],
    ]);
    assert.deepEqual(indexSelect(x, 1, tensor([2, 2, 0], { dtype: "int64" })).tolistSync(), [
      [3, 3, 1],
      [6, 6, 4],
    ]);
    assert.throws(
      () => gather(x, 1, tensor([[3]], { dtype: "int64" })),
      (e: { code: string }) => e.code === "HEARTH_TENSOR_INDEX",
    );
  });
  test("cat, stack, split, chunk, tril, triu", () => {
    const a = arange(4).reshape([2, 2]);
    assert.deepEqual(cat([a, a], 1).shape, [2, 4]);
    assert.deepEqual(stack([a, a], 2).shape, [2, 2, 2]);
    assert.deepEqual(
      split(arange(5), 2).map((t) => t.shape[0]),
      [2, 2, 1],
    );
    assert.deepEqual(
      chunk(arange(6), 4).map((t) => t.shape[0]),
      [2, 2, 2],
    );
    assert.deepEqual(tril(ones([3, 3])).tolistSync(), [
      [1, 0, 0],
      [1, 1, 0],
      [1, 1, 1],
    ]);
    assert.equal(tril(ones([2, 2], { dtype: "bool" })).dtype, "bool");
    assert.deepEqual(triu(ones([2, 3]), 1).tolistSync(), [
      [0, 1, 1],
      [0, 0, 1],
    ]);
  });
});

describe("nn ops", () => {
  test("conv2d matches a direct loop (stride, padding, dilation, groups)", () => {
    manualSeed(3);
    const x = randn([2, 4, 5, 6]);
    const w = randn([6, 2, 3, 2]);
    const b = randn([6]);
    const opts = {
      stride: [2, 1] as [number, number],
      padding: [1, 2] as [number, number],
      dilation: [1, 2] as [number, number],
      groups: 2,
    };
    const y = conv2d(x, w, b, opts);
    const [N, C, H, W] = [2, 4, 5, 6];
    const [O, CG, KH, KW] = [6, 2, 3, 2];
    const OH = Math.floor((H + 2 - 1 * (KH - 1) - 1) / 2) + 1;
    const OW = Math.floor((W + 4 - 2 * (KW - 1) - 1) / 1) + 1;
    assert.deepEqual(y.shape, [N, O, OH, OW]);
    const xv = flat(x);
    const wv = flat(w);
    const bv = flat(b);
    const expected: number[] = [];
    for (let n = 0; n < N; n++)
      for (let o = 0; o < O; o++)
        for (let oy = 0; oy < OH; oy++)
          for (let ox = 0; ox < OW; ox++) {
            let acc = bv[o] as number;
            const g = Math.floor(o / (O / 2));
            for (let c = 0; c < CG; c++)
              for (let i = 0; i < KH; i++)
                for (let j = 0; j < KW; j++) {
                  const yy = oy * 2 - 1 + i;
                  const xx = ox - 2 + j * 2;
                  if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                  acc +=
                    (xv[((n * C + g * CG + c) * H + yy) * W + xx] as number) *
                    (wv[((o * CG + c) * KH + i) * KW + j] as number);
                }
            expected.push(acc);
          }
    close(flat(y), expected, 1e-4);
  });

  test("crossEntropy equals −log softmax at the target, skipping ignoreIndex; smoothing mixes in the mean", () => {
    const logits = tensor([
      [1, 2, 3],
      [1, 1, 1],
      [0, 5, 0],
    ]);
    const target = tensor([2, -100, 1], { dtype: "int64" });
    const lse = (r: number[]) => Math.log(r.reduce((s, v) => s + Math.exp(v), 0));
    const l0 = lse([1, 2, 3]) - 3;
    const l2 = lse([0, 5, 0]) - 5;
    close([crossEntropy(logits, target).item()], [(l0 + l2) / 2]);
    close([crossEntropy(logits, target, { reduction: "sum" }).item()], [l0 + l2]);
    close([crossEntropy(tensor([1, 2, 3]), tensor(2n)).item()], [l0]); // one unbatched sample
    const eps = 0.2;
    const smooth = (r: number[], t: number) => {
      const ls = r.map((v) => v - lse(r));
      return -(1 - eps) * (ls[t] as number) - (eps / 3) * ls.reduce((a, b) => a + b, 0);
    };
    close(
      [crossEntropy(logits, target, { labelSmoothing: eps }).item()],
      [(smooth([1, 2, 3], 2) + smooth([0, 5, 0], 1)) / 2],
    );
    assert.throws(
      () => crossEntropy(logits, tensor([3, 0, 0], { dtype: "int64" })),
      /crossEntropy: argument 'target' holds class 3, outside \[0, 3\) for input float32\[3, 3\]/,
    );
  });

  test("scaledDotProductAttention: causal masking and a boolean keep-mask", () => {
    const q = randn([2, 3]);
    const k = randn([2, 3]);
    const v = tensor([
      [1, 2],
      [3, 4],
    ]);
    const y = scaledDotProductAttention(q, k, v, { isCausal: true });
    assert.deepEqual((y.tolistSync() as number[][])[0], [1, 2]); // query 0 sees key 0 only
    const masked = scaledDotProductAttention(q, k, v, { mask: tensor([false, true]) });
    assert.deepEqual(masked.tolistSync(), [
      [3, 4],
      [3, 4],
    ]);
    const s = softmax(matmul(q, transpose(k)).div(Math.sqrt(3)), -1);
    close(flat(scaledDotProductAttention(q, k, v)), flat(matmul(s, v)));
  });

  test("matmul handles vectors and broadcast batches", () => {
    const a = arange(6).reshape([2, 3]);
    assert.deepEqual(matmul(a, tensor([1, 1, 1])).tolistSync(), [3, 12]);
    assert.deepEqual(matmul(tensor([1, 1]), a).tolistSync(), [3, 5, 7]);
    assert.deepEqual(matmul(ones([4, 1, 2, 3]), ones([5, 3, 2])).shape, [4, 5, 2, 2]);
    assert.deepEqual(matmul(a, transpose(a)).tolistSync(), [
      [5, 14],
      [14, 50],
    ]);
  });
});

describe("creation and randomness", () => {
  test("arange, linspace, eye, full", () => {
    assert.deepEqual(arange(1, 7, 2).tolistSync(), [1, 3, 5]);
    assert.deepEqual(linspace(0, 1, 5).tolistSync(), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(eye(2, 3).tolistSync(), [
      [1, 0, 0],
      [0, 1, 0],
    ]);
    assert.deepEqual(full([2], 7, { dtype: "int64" }).dataSync(), new BigInt64Array([7n, 7n]));
  });

  test("manualSeed makes rand, randn, randint, multinomial and dropout reproducible", () => {
    const draw = () => {
      manualSeed(99);
      return [
        flat(rand([5])),
        flat(randn([5])),
        flat(randint(0, 10, [5])),
        flat(multinomial(tensor([0.1, 0, 0.9]), 4, true)),
      ];
    };
    assert.deepEqual(draw(), draw());
    manualSeed(1);
    const u = flat(rand([2000]));
    assert.ok(u.every((v) => v >= 0 && v < 1));
    assert.ok(Math.abs(u.reduce((a, b) => a + b, 0) / 2000 - 0.5) < 0.03);
    const r = flat(randint(3, 6, [500]));
    assert.deepEqual([...new Set(r)].sort(), [3, 4, 5]);
    const picks = flat(multinomial(tensor([0.5, 0, 0.5]), 100, true));
    assert.ok(picks.every((v) => v !== 1));
    const noRep = flat(multinomial(tensor([[1, 1, 1, 1]]), 4, false));
    assert.deepEqual([...noRep].sort(), [0, 1, 2, 3]);
  });
});

describe("autograd", () => {
  test("gradients accumulate over backward calls; noGrad and detach stop them", () => {
    const w = tensor([1, 2, 3]).requiresGrad_();
    sum(exp(w)).backward();
    sum(exp(w)).backward();
    close(flat(w.grad as Tensor), [2 * Math.E, 2 * Math.exp(2), 2 * Math.exp(3)]);
    assert.equal(noGrad(() => sum(w)).requiresGrad, false);
    assert.equal(w.detach().requiresGrad, false);
  });

  test("a grad flowing to a broadcast, viewed leaf is reduced to its shape", () => {
    const b = tensor([[1], [2]]).requiresGrad_();
    const y = add(reshape(b, [2, 1]), ones([3, 2, 4]));
    sum(y).backward();
    assert.deepEqual(b.grad?.tolistSync(), [[12], [12]]);
  });

  test("backward errors: non-scalar without grad, graph reused, no grad required", () => {
    const w = tensor([1, 2]).requiresGrad_();
    assert.throws(
      () => exp(w).backward(),
      /backward: argument 'grad' is required for a non-scalar output float32\[2\]/,
    );
    const l = sum(exp(w));
    l.backward();
    assert.throws(
      () => l.backward(),
      (e: { code: string }) => e.code === "HEARTH_TENSOR_GRAD",
    );
    assert.throws(() => sum(tensor([1])).backward(), /does not require grad/);
  });
});

describe("error messages name the op, shapes and dtypes", () => {
  test("shape and dtype mismatches", () => {
    assert.throws(
      () => matmul(ones([2, 3]), ones([4, 5])),
      /matmul\(float32\[2, 3\], float32\[4, 5\]\): argument 'b' must have 3 rows/,
    );
    assert.throws(
      () => add(ones([2, 3]), ones([4])),
      /add\(float32\[2, 3\], float32\[4\]\): shapes \[2, 3\] and \[4\] cannot be broadcast/,
    );
    assert.throws(
      () => matmul(ones([2, 2]), ones([2, 2], { dtype: "int64" })),
      /matmul\(float32\[2, 2\], int64\[2, 2\]\): argument 'b' must have dtype float32/,
    );
    assert.throws(
      () => cat([ones([2, 3]), ones([2, 4])], 0),
      /cat\(float32\[2, 3\], float32\[2, 4\]\): tensors\[1\] must match/,
    );
    assert.throws(() => ones([2]).reshape([3]), /reshape: cannot reshape float32\[2\] \(2 elements\) into \[3\]/);
    assert.throws(
      () => sum(ones([2]), 3),
      /sum: argument 'dim' must be an integer in \[-1, 0\] for a 1-d tensor, got 3/,
    );
    const t = ones([2]);
    t.dispose();
    assert.throws(
      () => add(t, 1),
      (e: { code: string }) => e.code === "HEARTH_TENSOR_DISPOSED",
    );
  });
});
