// Kernels flagged `writesAll` get recycled memory without a zero-fill. Each case poisons the
// addon's block cache with NaN-filled buffers of the output's size class, runs the op on the
// `cpu` backend (whose outputs then come from those blocks) and compares with the `js` backend:
// any element a kernel failed to write would read back as NaN.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  apply,
  arange,
  contiguous,
  embedding,
  exp,
  gelu,
  getBackend,
  gt,
  layerNorm,
  listBackends,
  manualSeed,
  matmul,
  mul,
  randint,
  randn,
  softmax,
  type Tensor,
  transpose,
  where,
  withBackend,
  zeros,
} from "../../index.ts";
import { native } from "../../native/index.ts";

const skip = !listBackends().includes("cpu") || !native ? "the native addon is not built" : false;

function poison(bytes: number): void {
  const addon = native as NonNullable<typeof native>;
  const blocks = Array.from({ length: 3 }, () => addon.allocate(bytes, false));
  for (const b of blocks) new Uint8Array(b).fill(0xff); // NaN in every float32 lane
  for (const b of blocks) addon.free(b);
  // Buffers under 1 MB come from the backend's pool of small buffers handed back by dispose().
  if (bytes < 1 << 20) for (let i = 0; i < 3; i++) mul(randn([bytes / 4]), Number.NaN).dispose();
}

test("writesAll kernels overwrite every element of recycled memory", { skip }, () => {
  manualSeed(9);
  const x = randn([520, 600]);
  const w = randn([600, 512]);
  const logits = randn([64, 5000]);
  const target = randint(0, 5000, [64]);
  const ids = randint(0, 600, [700]);
  const g = randn([64]);
  // Causal attention where queries 0-3 see no key at all (their dq rows are zeros) and random keys are hidden.
  const [q, k, v] = [0, 1, 2].map(() => randn([2, 4, 520, 64])) as [Tensor, Tensor, Tensor];
  const dout = randn([2, 520, 4, 64]); // like out, [B, T, H, E]
  const [wn, bn, dy] = [randn([600]), randn([600]), randn([520, 600])];
  const mask = gt(randn([1, 1, 520, 520]), -2)
    .mul(gt(arange(0, 520).reshape([1, 1, 520, 1]), 3.5))
    .to("bool");
  const cases: [string, () => Tensor][] = [
    ["matmul", () => matmul(x, w)],
    ["matmul transposed", () => matmul(transpose(w, 0, 1), transpose(x, 0, 1))],
    ["mul", () => mul(x, x)],
    ["exp", () => exp(x)],
    ["where", () => where(gt(x, 0), x, w.slice(0, 0, 520).reshape([520, 512]).slice(1, 0, 1))],
    ["contiguous", () => contiguous(transpose(x, 0, 1))],
    ["gelu", () => gelu(x, "tanh")],
    ["softmax", () => softmax(x, -1)],
    ["layerNorm", () => layerNorm(x, [600])],
    ["embedding", () => embedding(ids, w)],
    [
      "crossEntropyBackward",
      () => {
        const [, lse] = apply("crossEntropy", [logits, target], {}) as [Tensor, Tensor];
        return apply("crossEntropyBackward", [logits, target, lse, g], {})[0] as Tensor;
      },
    ],
    ...([0, 1] as const).map((i): [string, () => Tensor] => [
      `attention ${["out", "lse"][i]}`,
      () => apply("attention", [q, k, v], { scale: 0.125, causal: true })[i] as Tensor, // every query sees a key
    ]),
    [
      "cachedAttention",
      () => {
        const one = (t: Tensor) => t.slice(2, 0, 1);
        const caches = [zeros([2, 4, 8, 64]), zeros([2, 4, 8, 64])];
        return apply("cachedAttention", [one(q), one(k), one(v), ...caches], {
          scale: 0.125,
          causal: true,
          past: 5,
        })[0] as Tensor;
      },
    ],
    ...([0, 1, 2] as const).map((i): [string, () => Tensor] => [
      `layerNormBackward ${["dx", "dweight", "dbias"][i]}`,
      () => {
        const [, mean, rstd] = apply("layerNorm", [x, wn, bn], {
          normalizedDims: 1,
          eps: 1e-5,
          weight: true,
          bias: true,
        });
        const attrs = { normalizedDims: 1, weight: true, needWeight: true, needBias: true };
        return apply("layerNormBackward", [x, wn, mean as Tensor, rstd as Tensor, dy], attrs)[i] as Tensor;
      },
    ]),
    ...([0, 1, 2] as const).map((i): [string, () => Tensor] => [
      `attentionBackward d${"qkv"[i]}`,
      () => {
        const attrs = { scale: 0.125, causal: true };
        const [out, lse] = apply("attention", [q, k, v, mask], attrs) as [Tensor, Tensor];
        return apply("attentionBackward", [q, k, v, out, lse, dout, mask], attrs)[i] as Tensor;
      },
    ]),
    [
      "attentionBackward packed",
      () => {
        const attrs = { scale: 0.125, causal: true };
        const [out, lse] = apply("attention", [q, k, v, mask], attrs) as [Tensor, Tensor];
        return apply("attentionBackward", [q, k, v, out, lse, dout, mask], { ...attrs, packed: true })[0] as Tensor;
      },
    ],
  ];
  assert.equal(getBackend().name, "cpu");
  for (const [name, run] of cases) {
    const want = withBackend("js", run).dataSync() as Float32Array;
    poison(want.length * 4);
    const got = run().dataSync() as Float32Array;
    assert.equal(got.length, want.length, name);
    for (let i = 0; i < want.length; i++) {
      const d = Math.abs((got[i] as number) - (want[i] as number));
      assert.ok(d <= 1e-3 * (1 + Math.abs(want[i] as number)), `${name}[${i}]: ${got[i]} vs ${want[i]}`);
    }
  }
});
