// Memory-bound op throughput on the `cpu` backend: the fused softmax, logSoftmax, layerNorm,
// rmsNorm and GELU primitives (forward, and the softmax/layerNorm backward primitives) and causal
// attention in GB/s against the copy bandwidth measured here with a copy loop, and beside numpy
// doing the same maths (Debian's python3-numpy; skipped with a message when absent) in the same
// run. A second table times the kernels that replaced js fallbacks (random fills, cumsum, sort,
// argmax, integer casts) beside numpy, and the random fills beside the js reference.
//
//   npm run bench -- ops [--quick]
//
// GB/s counts each op's compulsory traffic: the forward row ops read x and write y (2 · 4 bytes
// per element); the backward primitives read two tensors and write one (3 · 4 bytes); attention
// reads q, k, v and writes out (4 · 4 bytes per element of one of them). Each row op is one
// fused primitive (one kernel, one pass over rows); copy bandwidth is the ceiling. Attention is
// the fused `attention` primitive, with the composite it replaced on the last row.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  apply,
  argmax,
  compositeAttention,
  cumsum,
  gelu,
  getBackend,
  layerNorm,
  logSoftmax,
  manualSeed,
  randn,
  rmsNorm,
  scaledDotProductAttention,
  scope,
  softmax,
  sort,
  type Tensor,
  uniform,
  withBackend,
} from "../packages/tensor/src/index.ts";
import { native } from "../packages/tensor/src/native/index.ts";

if (!native || !getBackend().name.startsWith("cpu")) {
  console.error("bench/ops: the native cpu backend is not available (run `npm install`)");
  process.exit(1);
}
const addon = native;
const quick = process.argv.includes("--quick");

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}
function time(fn: () => void, budget = quick ? 0.3 : 1): number {
  fn();
  const t0 = performance.now();
  fn();
  const once = Math.max((performance.now() - t0) / 1000, 1e-6);
  const reps = Math.max(3, Math.min(100, Math.round(budget / once)));
  const xs: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    xs.push((performance.now() - t) / 1000);
  }
  return median(xs);
}

// Copy bandwidth: a 256 MB contiguous copy through the addon (memcpy split over the pool).
const n = 64 << 20;
const src = new Float32Array(n).fill(1);
const dst = new Float32Array(n);
const copySecs = time(() => addon.copy(src, 0, [1], dst, 0, [1], [n]));
const copyGBs = (2 * n * 4) / copySecs / 1e9;

interface Op {
  name: string;
  shape: number[];
  bytes: number;
  run: (xs: Tensor[]) => Tensor;
  make: () => Tensor[];
  check: (xs: Tensor[]) => Tensor;
}
manualSeed(0);
const [R, C] = quick ? [2048, 4096] : [4096, 8192];
const [LR, LC] = quick ? [4096, 768] : [16384, 768];
const [B, H, T, D] = quick ? [1, 12, 256, 64] : [4, 12, 512, 64];
const [GR, GC] = quick ? [1024, 3072] : [4096, 3072];
const lnStats = (x: Tensor, w: Tensor, b: Tensor) => apply("layerNorm", [x, w, b], lnAttrs) as Tensor[];
const lnAttrs = { normalizedDims: 1, eps: 1e-5, weight: true, bias: true };
const ops: Op[] = [
  {
    name: "softmax (last dim)",
    shape: [R, C],
    bytes: 2 * 4 * R * C,
    make: () => [randn([R, C])],
    run: ([x]) => softmax(x as Tensor, -1),
    check: ([x]) => softmax((x as Tensor).slice(0, 0, 4), -1),
  },
  {
    name: "logSoftmax (last dim)",
    shape: [R, C],
    bytes: 2 * 4 * R * C,
    make: () => [randn([R, C])],
    run: ([x]) => logSoftmax(x as Tensor, -1),
    check: ([x]) => logSoftmax((x as Tensor).slice(0, 0, 4), -1),
  },
  {
    name: "softmax backward",
    shape: [R, C],
    bytes: 3 * 4 * R * C,
    make: () => [softmax(randn([R, C]), -1), randn([R, C])],
    run: ([y, dy]) => apply("softmaxBackward", [y as Tensor, dy as Tensor], { dim: 1 })[0] as Tensor,
    check: ([y, dy]) =>
      apply("softmaxBackward", [(y as Tensor).slice(0, 0, 4), (dy as Tensor).slice(0, 0, 4)], { dim: 1 })[0] as Tensor,
  },
  {
    name: "layerNorm (768, affine)",
    shape: [LR, LC],
    bytes: 2 * 4 * LR * LC,
    make: () => [randn([LR, LC]), randn([LC]), randn([LC])],
    run: ([x, w, b]) => layerNorm(x as Tensor, [LC], w, b),
    check: ([x, w, b]) => layerNorm((x as Tensor).slice(0, 0, 4), [LC], w, b),
  },
  {
    name: "layerNorm backward",
    shape: [LR, LC],
    bytes: 3 * 4 * LR * LC,
    make: () => {
      const [x, w, b] = [randn([LR, LC]), randn([LC]), randn([LC])] as [Tensor, Tensor, Tensor];
      const [, mean, rstd] = lnStats(x, w, b) as [Tensor, Tensor, Tensor];
      return [x, w, mean, rstd, randn([LR, LC])];
    },
    run: (xs) =>
      apply("layerNormBackward", xs, {
        normalizedDims: 1,
        weight: true,
        needWeight: true,
        needBias: true,
      })[0] as Tensor,
    check: ([x, w, mean, rstd, dy]) =>
      apply(
        "layerNormBackward",
        [
          (x as Tensor).slice(0, 0, 4),
          w as Tensor,
          (mean as Tensor).slice(0, 0, 4),
          (rstd as Tensor).slice(0, 0, 4),
          (dy as Tensor).slice(0, 0, 4),
        ],
        { normalizedDims: 1, weight: true, needWeight: true, needBias: true },
      )[0] as Tensor,
  },
  {
    name: "rmsNorm (768, weight)",
    shape: [LR, LC],
    bytes: 2 * 4 * LR * LC,
    make: () => [randn([LR, LC]), randn([LC])],
    run: ([x, w]) => rmsNorm(x as Tensor, w),
    check: ([x, w]) => rmsNorm((x as Tensor).slice(0, 0, 4), w),
  },
  {
    name: "gelu tanh",
    shape: [GR, GC],
    bytes: 2 * 4 * GR * GC,
    make: () => [randn([GR, GC])],
    run: ([x]) => gelu(x as Tensor, "tanh"),
    check: ([x]) => gelu((x as Tensor).slice(0, 0, 4), "tanh"),
  },
  {
    name: "attention (causal)",
    shape: [B, H, T, D],
    bytes: 4 * 4 * B * H * T * D,
    make: () => [randn([B, H, T, D]), randn([B, H, T, D]), randn([B, H, T, D])],
    run: ([q, k, v]) => scaledDotProductAttention(q as Tensor, k as Tensor, v as Tensor, { isCausal: true }),
    check: ([q, k, v]) =>
      scaledDotProductAttention(
        (q as Tensor).slice(2, 0, 32),
        (k as Tensor).slice(2, 0, 32),
        (v as Tensor).slice(2, 0, 32),
        {
          isCausal: true,
        },
      ),
  },
  {
    // What the fused `attention` primitive replaced: matmul, mask, softmax, matmul.
    name: "attention (composite)",
    shape: [B, H, T, D],
    bytes: 4 * 4 * B * H * T * D,
    make: () => [randn([B, H, T, D]), randn([B, H, T, D]), randn([B, H, T, D])],
    run: ([q, k, v]) => compositeAttention(q as Tensor, k as Tensor, v as Tensor, { isCausal: true }),
    check: ([q, k, v]) =>
      compositeAttention((q as Tensor).slice(2, 0, 32), (k as Tensor).slice(2, 0, 32), (v as Tensor).slice(2, 0, 32), {
        isCausal: true,
      }),
  },
];

// numpy peer: the same maths on the same shapes, timed in one Python process.
const python = "/usr/bin/python3";
/** The peers' timer: median seconds of `f` over about `budget` seconds (3 to 100 calls). */
const pyTimeit = `def timeit(f):
    f(); t0 = time.perf_counter(); f(); once = max(time.perf_counter() - t0, 1e-6)
    xs = []
    for _ in range(max(3, min(100, round(budget / once)))):
        t = time.perf_counter(); f(); xs.append(time.perf_counter() - t)
    xs.sort(); return xs[len(xs) // 2]`;
const peerScript = `
import json, sys, time
import numpy as np
q = json.loads(sys.argv[1]); budget = float(sys.argv[2]); rng = np.random.default_rng(0)
${pyTimeit}
R, C = q["softmax"]; x = rng.standard_normal((R, C), dtype=np.float32)
def sm():
    e = np.exp(x - x.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
def lsm():
    s = x - x.max(-1, keepdims=True); return s - np.log(np.exp(s).sum(-1, keepdims=True))
sy = sm(); sdy = rng.standard_normal((R, C), dtype=np.float32)
def smb():
    return sy * (sdy - (sdy * sy).sum(-1, keepdims=True))
LR, LC = q["layerNorm"]; y = rng.standard_normal((LR, LC), dtype=np.float32); w = np.ones(LC, np.float32); b = np.zeros(LC, np.float32)
def ln():
    mu = y.mean(-1, keepdims=True); var = y.var(-1, keepdims=True); return (y - mu) / np.sqrt(var + 1e-5) * w + b
ldy = rng.standard_normal((LR, LC), dtype=np.float32)
def lnb():
    mu = y.mean(-1, keepdims=True); rs = 1 / np.sqrt(y.var(-1, keepdims=True) + 1e-5); xh = (y - mu) * rs; g = ldy * w
    dw = (ldy * xh).sum(0); db = ldy.sum(0)
    return rs * (g - g.mean(-1, keepdims=True) - xh * (g * xh).mean(-1, keepdims=True))
def rms():
    return y / np.sqrt((y * y).mean(-1, keepdims=True) + 1e-6) * w
GR, GC = q["gelu"]; gx = rng.standard_normal((GR, GC), dtype=np.float32)
def ge():
    return 0.5 * gx * (1 + np.tanh(np.float32(0.7978845608) * (gx + np.float32(0.044715) * gx * gx * gx)))
B, H, T, D = q["attention"]; qq, kk, vv = (rng.standard_normal((B, H, T, D), dtype=np.float32) for _ in range(3))
mask = np.triu(np.ones((T, T), dtype=bool), 1)
def at():
    s = (qq @ kk.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(D)); s[..., mask] = -np.inf
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True); return s @ vv
print(json.dumps([timeit(f) for f in (sm, lsm, smb, ln, lnb, rms, ge, at)]))
`;
function peer(): number[] | null {
  if (!existsSync(python) || spawnSync(python, ["-c", "import numpy"]).status !== 0) {
    console.log("numpy peer skipped: install it with `apt-get install -y python3-numpy libopenblas0-pthread`");
    return null;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(addon.numThreads()) };
  const shapes = JSON.stringify({ softmax: [R, C], layerNorm: [LR, LC], gelu: [GR, GC], attention: [B, H, T, D] });
  const r = spawnSync(python, ["-c", peerScript, shapes, String(quick ? 0.3 : 1)], { env, encoding: "utf8" });
  if (r.status !== 0) {
    console.log(`numpy peer failed: ${r.stderr.trim().split("\n").pop()}`);
    return null;
  }
  return JSON.parse(r.stdout) as number[];
}

console.log(
  `cpu backend, ${addon.numThreads()} thread(s); copy bandwidth ${copyGBs.toFixed(1)} GB/s (read+write, 256 MB)`,
);
const peerSecs = peer();
console.log("op                        shape              ours ms    GB/s  %copy   numpy ms  numpy/ours");
ops.forEach((op, i) => {
  const inputs = op.make();
  // Validate against the js reference on a slice before timing.
  const want = withBackend("js", () => op.check(inputs)).dataSync() as Float32Array;
  const got = op.check(inputs).dataSync() as Float32Array;
  for (let j = 0; j < want.length; j++) {
    if (!(Math.abs((got[j] as number) - (want[j] as number)) <= 1e-4 * (1 + Math.abs(want[j] as number)))) {
      throw new Error(`bench/ops: ${op.name} disagrees with the js backend at ${j}`);
    }
  }
  const secs = time(() => scope(() => void op.run(inputs)));
  const gbs = op.bytes / secs / 1e9;
  const p = peerSecs?.[i];
  console.log(
    [
      op.name.padEnd(25),
      JSON.stringify(op.shape).padEnd(18),
      (secs * 1e3).toFixed(2).padStart(8),
      gbs.toFixed(1).padStart(7),
      `${((100 * gbs) / copyGBs).toFixed(0)}%`.padStart(6),
      p ? (p * 1e3).toFixed(2).padStart(10) : "         -",
      p ? (p / secs).toFixed(2).padStart(11) : "          -",
    ].join(" "),
  );
});

// The kernels that replaced js fallbacks (random, cumsum, sort, argmax, integer casts), beside
// numpy in the same run, and for `random` beside the js reference it replaced: a GPT-2 small
// (124M parameters) init draws about 2.3x its parameter count through it.
const M = quick ? 4 : 16;
const kernelRows: { name: string; shape: number[]; make: () => Tensor; run: (x: Tensor) => unknown }[] = [
  {
    name: "random normal",
    shape: [M << 20],
    make: () => randn([1]),
    run: () => randn([M << 20], { std: 0.02 }),
  },
  { name: "random uniform", shape: [M << 20], make: () => randn([1]), run: () => uniform([M << 20], -0.1, 0.1) },
  { name: "cumsum (last dim)", shape: [2048, 2048], make: () => randn([2048, 2048]), run: (x) => cumsum(x, -1) },
  {
    name: "sort (vocab rows)",
    shape: [32, 50257],
    make: () => randn([32, 50257]),
    run: (x) => sort(x, -1, true).values,
  },
  { name: "argmax (vocab rows)", shape: [32, 50257], make: () => randn([32, 50257]), run: (x) => argmax(x, -1) },
  {
    name: "cast f32 -> int32",
    shape: [2048, 2048],
    make: () => randn([2048, 2048]).mul(1e3),
    run: (x) => x.to("int32"),
  },
  {
    name: "cast int64 -> f32",
    shape: [2048, 2048],
    make: () => randn([2048, 2048]).mul(1e3).to("int64"),
    run: (x) => x.to("float32"),
  },
];
const kernelPeer = `
import json, sys, time
import numpy as np
M = int(sys.argv[1]); budget = float(sys.argv[2]); rng = np.random.default_rng(0)
${pyTimeit}
n = M << 20; c = rng.standard_normal((2048, 2048), dtype=np.float32); v = rng.standard_normal((32, 50257), dtype=np.float32)
i64 = (c * 1000).astype(np.int64); big = c * 1000
fs = [lambda: rng.standard_normal(n, dtype=np.float32) * np.float32(0.02), lambda: rng.uniform(-0.1, 0.1, n).astype(np.float32),
      lambda: np.cumsum(c, axis=-1), lambda: np.sort(-v, axis=-1, kind="stable"), lambda: v.argmax(-1),
      lambda: big.astype(np.int32), lambda: i64.astype(np.float32)]
print(json.dumps([timeit(f) for f in fs]))
`;
const kernelPeerSecs = (() => {
  if (!peerSecs) return null;
  const r = spawnSync(python, ["-c", kernelPeer, String(M), String(quick ? 0.3 : 1)], { encoding: "utf8" });
  return r.status === 0 ? (JSON.parse(r.stdout) as number[]) : null;
})();
console.log("\nop                        shape              ours ms   js ms  js/ours   numpy ms  numpy/ours");
kernelRows.forEach((row, i) => {
  const x = row.make();
  // Validate against the js reference on a small case first (random: bit for bit, same seed).
  manualSeed(1);
  const small = row.name.startsWith("random") ? null : x.reshape([-1]).slice(0, 0, Math.min(4096, x.size));
  const [want, got] = ["js", "cpu"].map((b) => {
    manualSeed(1);
    return withBackend(b, () => (small ? (row.run(small) as Tensor) : (row.run(x) as Tensor).slice(0, 0, 4096)))
      .to("float32")
      .dataSync() as Float32Array;
  }) as [Float32Array, Float32Array];
  for (let j = 0; j < want.length; j++) {
    if (!Object.is(got[j], want[j])) throw new Error(`bench/ops: ${row.name} disagrees with the js backend at ${j}`);
  }
  const secs = time(() => scope(() => void row.run(x)));
  const jsSecs = row.name.startsWith("random")
    ? time(() => withBackend("js", () => scope(() => void row.run(x))), 0)
    : 0;
  const p = kernelPeerSecs?.[i];
  console.log(
    [
      row.name.padEnd(25),
      JSON.stringify(row.shape).padEnd(18),
      (secs * 1e3).toFixed(2).padStart(8),
      jsSecs ? (jsSecs * 1e3).toFixed(0).padStart(7) : "      -",
      jsSecs ? (jsSecs / secs).toFixed(1).padStart(8) : "       -",
      p ? (p * 1e3).toFixed(2).padStart(10) : "         -",
      p ? (p / secs).toFixed(2).padStart(11) : "          -",
    ].join(" "),
  );
});
console.log("\nNote: the machine's 2 cores may be shared with other work; numbers are noisy.");
