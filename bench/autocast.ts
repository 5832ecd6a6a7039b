// Mixed precision on the `cpu` backend: a linear layer's product (x·Wᵀ, PyTorch's weight
// layout) under `autocast("bfloat16")` beside the same product in float32, on the transformer
// shapes, forward and forward+backward. Under autocast the float32 operands are cast to
// bfloat16 (one vectorised pass each; the weight in its own layout) and multiplied with float32
// accumulation into a float32 product; backward rounds dY to bfloat16 once and computes dW in
// the bf16 GEMM straight into float32, all in the timed region.
//
//   npm run bench -- autocast
import {
  autocast,
  getBackend,
  linear,
  manualSeed,
  randn,
  scope,
  sum,
  type Tensor,
} from "../packages/tensor/src/index.ts";
import { native } from "../packages/tensor/src/native/index.ts";

if (!native || getBackend().name !== "cpu") {
  console.error("bench/autocast: the native cpu backend is not available (run `npm install`)");
  process.exit(1);
}
const addon = native;

/**
 * Best-of-`reps` milliseconds of `a` and `b`, timed alternately so both see the same machine
 * load (the minimum is the steadiest figure on shared cores).
 */
function bestOf(a: () => void, b: () => void, reps = 15): [number, number] {
  a();
  b();
  let ta = Number.POSITIVE_INFINITY;
  let tb = Number.POSITIVE_INFINITY;
  for (let r = 0; r < reps; r++) {
    let t = performance.now();
    a();
    ta = Math.min(ta, performance.now() - t);
    t = performance.now();
    b();
    tb = Math.min(tb, performance.now() - t);
  }
  return [ta, tb];
}

manualSeed(0);
const shapes: [number, number, number][] = [
  [512, 768, 3072],
  [512, 3072, 768],
];
console.log(
  `cpu backend, ${addon.numThreads()} thread(s); bf16 GEMM kernel ${addon.gemmKernel("bfloat16")}, casts ${addon.convertKernel()}`,
);
console.log("best of 15, timed alternately");
console.log("x[M,K]·W[N,K]ᵀ            pass       fp32 ms   bf16 autocast ms   fp32/bf16");
for (const [M, K, N] of shapes) {
  const x = randn([M, K]);
  const w = randn([N, K]).requiresGrad_();
  const fwd = (dtype: "bfloat16" | null) => () => scope(() => void autocast(dtype, () => linear(x, w)));
  const both = (dtype: "bfloat16" | null) => () =>
    scope(() => {
      autocast(dtype, () => sum(linear(x, w) as Tensor)).backward();
      w.grad = null;
    });
  for (const [pass, make] of [
    ["forward", fwd],
    ["fwd+bwd", both],
  ] as const) {
    const [f32, b16] = bestOf(make(null), make("bfloat16"));
    console.log(
      [
        `${M}x${K}·(${N}x${K})ᵀ`.padEnd(26),
        pass.padEnd(9),
        f32.toFixed(2).padStart(8),
        b16.toFixed(2).padStart(18),
        (f32 / b16).toFixed(2).padStart(11),
      ].join(" "),
    );
  }
}
console.log("\nNote: the machine's 2 cores may be shared with other work; numbers are noisy.");
