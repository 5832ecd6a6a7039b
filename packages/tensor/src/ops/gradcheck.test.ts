// Finite-difference gradient checks for every differentiable op, over broadcasts,
// non-contiguous views (transpose, slice, expand) and size-1 dims.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  abs,
  add,
  amax,
  amin,
  cat,
  chunk,
  clamp,
  conv1d,
  conv2d,
  cos,
  crossEntropy,
  cumsum,
  div,
  dropout,
  embedding,
  erf,
  exp,
  expand,
  flatten,
  gather,
  gelu,
  gradcheck,
  indexSelect,
  layerNorm,
  linear,
  log,
  log1p,
  logSoftmax,
  logsumexp,
  manualSeed,
  maskedFill,
  matmul,
  max,
  maximum,
  mean,
  min,
  minimum,
  movedim,
  mseLoss,
  mul,
  narrow,
  neg,
  pad,
  permute,
  pow,
  randn,
  relu,
  reshape,
  rmsNorm,
  rsqrt,
  scaledDotProductAttention,
  scatterAdd,
  sigmoid,
  silu,
  sin,
  slice,
  softmax,
  softplus,
  sort,
  split,
  sqrt,
  squeeze,
  stack,
  std,
  sub,
  sum,
  type Tensor,
  tanh,
  tensor,
  topk,
  transpose,
  tril,
  triu,
  unsqueeze,
  variance,
  where,
} from "../index.ts";

manualSeed(1234);
const leaf = (shape: number[], opts: { positive?: boolean; scale?: number } = {}): Tensor => {
  let t = randn(shape);
  if (opts.scale) t = mul(t, opts.scale);
  if (opts.positive) t = add(abs(t), 0.5);
  return t.detach().contiguous().requiresGrad_();
};
/** A leaf holding a random permutation of 0.1·(0..n−1), so all values differ by ≥ 0.1. */
const spread = (shape: number[]): Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const order = sort(randn([n])).indices;
  return mul(reshape(order.to("float32"), shape), 0.1)
    .detach()
    .contiguous()
    .requiresGrad_();
};
const ids = (values: number[], shape?: number[]) =>
  reshape(tensor(values, { dtype: "int64" }), shape ?? [values.length]);

type Case = [string, (...x: Tensor[]) => Tensor, () => Tensor[]];

const cases: Case[] = [
  // elementwise unary, on non-contiguous views and size-1 dims
  ["neg (transposed)", (x) => neg(transpose(x)), () => [leaf([3, 2])]],
  ["abs", (x) => abs(x), () => [leaf([2, 1, 3])]],
  ["exp (sliced)", (x) => exp(slice(x, 1, 1, 3)), () => [leaf([2, 4])]],
  ["log", (x) => log(x), () => [leaf([5], { positive: true })]],
  ["log1p", (x) => log1p(x), () => [leaf([5], { positive: true })]],
  ["sqrt", (x) => sqrt(x), () => [leaf([2, 3], { positive: true })]],
  ["rsqrt", (x) => rsqrt(x), () => [leaf([4], { positive: true })]],
  ["sin", (x) => sin(x), () => [leaf([4])]],
  ["cos", (x) => cos(transpose(x)), () => [leaf([2, 3])]],
  ["tanh", (x) => tanh(x), () => [leaf([1, 4])]],
  ["sigmoid", (x) => sigmoid(x), () => [leaf([4, 1])]],
  ["relu", (x) => relu(x), () => [leaf([6])]],
  ["erf", (x) => erf(x), () => [leaf([5])]],
  ["gelu exact", (x) => gelu(x), () => [leaf([6])]],
  ["gelu tanh", (x) => gelu(x, "tanh"), () => [leaf([6])]],
  ["silu", (x) => silu(x), () => [leaf([6])]],
  ["softplus", (x) => softplus(x), () => [leaf([6])]],
  ["clamp", (x) => clamp(x, -0.5, 0.5), () => [leaf([8])]],
  // binary with broadcasts
  ["add broadcast", (a, b) => add(a, b), () => [leaf([2, 3]), leaf([3])]],
  ["sub broadcast size-1", (a, b) => sub(a, b), () => [leaf([2, 1, 3]), leaf([4, 1])]],
  ["mul broadcast + transpose", (a, b) => mul(transpose(a), b), () => [leaf([3, 2]), leaf([1, 3])]],
  ["div", (a, b) => div(a, b), () => [leaf([2, 3]), leaf([2, 1], { positive: true })]],
  ["pow", (a, b) => pow(a, b), () => [leaf([3], { positive: true }), leaf([2, 1])]],
  ["pow scalar", (a) => pow(a, 3), () => [leaf([4])]],
  ["maximum", (a, b) => maximum(a, b), () => [leaf([2, 3]), leaf([3])]],
  ["minimum", (a, b) => minimum(a, b), () => [leaf([2, 3]), leaf([2, 1])]],
  ["where", (a, b) => where(tensor([true, false, true]), a, b), () => [leaf([2, 3]), leaf([1])]],
  ["maskedFill", (a) => maskedFill(a, tensor([[true], [false]]), 2), () => [leaf([2, 3])]],
  // reductions
  ["sum dims keepdim", (x) => sum(x, [0, 2], true), () => [leaf([2, 3, 2])]],
  ["sum all", (x) => sum(transpose(x)), () => [leaf([2, 3])]],
  ["mean", (x) => mean(x, -1), () => [leaf([3, 4])]],
  ["var", (x) => variance(x, 1), () => [leaf([2, 5])]],
  ["std keepdim", (x) => std(x, 0, { keepdim: true, correction: 0 }), () => [leaf([4, 2])]],
  ["amax dim", (x) => amax(x, 1), () => [leaf([3, 4])]],
  ["amin all dims", (x) => amin(x), () => [spread([2, 3])]],
  ["max(dim).values", (x) => max(x, 0, true).values, () => [spread([3, 2])]],
  ["min(dim).values", (x) => min(x, -1).values, () => [spread([2, 4])]],
  ["logsumexp", (x) => logsumexp(x, 1), () => [leaf([2, 4])]],
  ["softmax", (x) => softmax(transpose(x), -1), () => [leaf([4, 3])]],
  ["logSoftmax", (x) => logSoftmax(x, 0), () => [leaf([3, 2])]],
  ["cumsum", (x) => cumsum(x, 1), () => [leaf([2, 4])]],
  ["sort values", (x) => sort(x, 1, true).values, () => [spread([2, 4])]],
  // well-separated values: a perturbation must not reorder the elements
  ["topk values", (x) => topk(x, 2, -1).values, () => [spread([3, 4])]],
  // linear algebra
  ["matmul 2d", (a, b) => matmul(a, b), () => [leaf([2, 3]), leaf([3, 4])]],
  ["matmul batched broadcast", (a, b) => matmul(a, b), () => [leaf([2, 1, 2, 3]), leaf([3, 3, 2])]],
  ["matmul transposed operands", (a, b) => matmul(transpose(a), transpose(b)), () => [leaf([3, 2]), leaf([4, 3])]],
  ["matmul vector", (a, b) => matmul(a, b), () => [leaf([3]), leaf([2, 3, 2])]],
  ["linear", (x, w, b) => linear(x, w, b), () => [leaf([2, 3]), leaf([4, 3]), leaf([4])]],
  ["matmul 3d by a shared 2d", (a, b) => matmul(a, b), () => [leaf([2, 3, 4]), leaf([4, 5])]],
  [
    "linear on a strided 3d input",
    (x, w, b) => linear(transpose(x, 0, 1), w, b),
    () => [leaf([3, 2, 3]), leaf([4, 3]), leaf([4])],
  ],
  // movement
  ["reshape of transpose", (x) => reshape(transpose(x), [6]), () => [leaf([2, 3])]],
  ["expand", (x) => mul(expand(x, [2, 3, 4]), 2), () => [leaf([3, 1])]],
  ["cat", (a, b) => cat([a, transpose(b)], 0), () => [leaf([1, 3]), leaf([3, 2])]],
  ["stack", (a, b) => stack([a, b], 1), () => [leaf([2, 2]), leaf([2, 2])]],
  ["chunk", (x) => mul(chunk(x, 2, 0)[0] as Tensor, chunk(x, 2, 0)[1] as Tensor), () => [leaf([4, 2])]],
  ["narrow + movedim", (x) => movedim(narrow(x, 2, 1, 2), 2, 0), () => [leaf([2, 3, 4])]],
  ["permute 3-d + flatten", (x) => flatten(permute(x, [2, 0, 1]), 1), () => [leaf([2, 3, 2])]],
  ["squeeze/unsqueeze", (x) => unsqueeze(squeeze(x, 1), 0), () => [leaf([3, 1, 2])]],
  ["split", (x) => mul(split(x, [1, 2], 1)[1] as Tensor, 3), () => [leaf([2, 3])]],
  ["pad", (x) => pad(x, [1, 2, 0, 1]), () => [leaf([2, 2])]],
  ["tril", (x) => tril(x), () => [leaf([3, 3])]],
  ["triu offset", (x) => triu(x, 1), () => [leaf([2, 3, 3])]],
  // indexing
  ["gather", (x) => gather(x, 1, ids([0, 2, 1, 1], [2, 2])), () => [leaf([2, 3])]],
  ["scatterAdd", (x, s) => scatterAdd(x, 0, ids([1, 0, 1], [1, 3]), s), () => [leaf([2, 3]), leaf([1, 3])]],
  ["indexSelect repeated", (x) => indexSelect(x, 0, ids([2, 0, 2])), () => [leaf([3, 2])]],
  ["embedding", (w) => embedding(ids([1, 3, 1, 0], [2, 2]), w), () => [leaf([4, 3])]],
  // nn
  ["layerNorm", (x, w, b) => layerNorm(x, [4], w, b), () => [leaf([2, 4]), leaf([4]), leaf([4])]],
  ["rmsNorm", (x, w) => rmsNorm(x, w), () => [leaf([3, 4]), leaf([4])]],
  [
    "layerNorm over 2 dims, transposed x",
    (x, w) => layerNorm(transpose(x), [3, 2], w),
    () => [leaf([2, 2, 3]), leaf([3, 2])],
  ],
  ["layerNorm bias only, width 19", (x, b) => layerNorm(x, [19], null, b), () => [leaf([3, 19]), leaf([19])]],
  ["rmsNorm no weight, width 17", (x) => rmsNorm(slice(x, 1, 1, 18)), () => [leaf([2, 20])]],
  ["softmax dim 0 of 3-d", (x) => softmax(x, 0), () => [leaf([3, 2, 2])]],
  ["logSoftmax transposed, width 17", (x) => logSoftmax(transpose(x), -1), () => [leaf([17, 2])]],
  ["gelu exact wide range", (x) => gelu(x), () => [leaf([2, 17], { scale: 3 })]],
  ["gelu tanh transposed", (x) => gelu(transpose(x), "tanh"), () => [leaf([17, 2], { scale: 3 })]],
  ["silu wide range", (x) => silu(x), () => [leaf([19], { scale: 4 })]],
  [
    "dropout p=0.3 (fixed seed)",
    (x) => {
      manualSeed(5);
      return dropout(x, 0.3);
    },
    () => [leaf([8])],
  ],
  ["crossEntropy", (x) => crossEntropy(x, ids([1, 0, 2])), () => [leaf([3, 4])]],
  [
    "crossEntropy ignoreIndex + smoothing",
    (x) => crossEntropy(x, ids([1, -100, 2]), { labelSmoothing: 0.1 }),
    () => [leaf([3, 4])],
  ],
  ["crossEntropy class dim 1", (x) => crossEntropy(x, ids([0, 1, 2, 0], [2, 2])), () => [leaf([2, 3, 2])]],
  [
    "scaledDotProductAttention causal + mask",
    (q, k, v) => scaledDotProductAttention(q, k, v, { isCausal: true, mask: tensor([[0, -1, 0, 0.5]]) }),
    () => [leaf([2, 3, 4]), leaf([2, 4, 4]), leaf([2, 4, 2])],
  ],
  ["mseLoss", (a, b) => mseLoss(a, b), () => [leaf([2, 3]), leaf([2, 3])]],
  [
    "conv2d stride/pad/dilation",
    (x, w, b) => conv2d(x, w, b, { stride: 2, padding: 1, dilation: [1, 2] }),
    () => [leaf([1, 2, 5, 5]), leaf([3, 2, 2, 2]), leaf([3])],
  ],
  ["conv2d groups", (x, w) => conv2d(x, w, null, { groups: 2 }), () => [leaf([2, 4, 3, 3]), leaf([2, 2, 2, 2])]],
  [
    "conv1d",
    (x, w, b) => conv1d(x, w, b, { padding: 1, stride: 2 }),
    () => [leaf([2, 2, 5]), leaf([3, 2, 3]), leaf([3])],
  ],
];

describe("gradcheck: every differentiable op against finite differences", () => {
  for (const [name, fn, make] of cases) {
    test(name, () => {
      const inputs = make();
      const bad = gradcheck(fn, inputs);
      assert.deepEqual(bad, [], `${name}: ${JSON.stringify(bad.slice(0, 3))}`);
    });
  }
});
