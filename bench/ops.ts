// Memory-bound op throughput on the `cpu` backend: softmax, layerNorm and causal attention in
// GB/s against the copy bandwidth measured here with a copy loop, and beside numpy doing the
// same maths (Debian's python3-numpy; skipped with a message when absent) in the same run.
//
//   npm run bench -- ops [--quick]
//
// GB/s counts each op's compulsory traffic: softmax and layerNorm read x and write y
// (2 · 4 bytes per element); attention reads q, k, v and writes out (4 · 4 bytes per element of
// one of them). Attention runs the fused `attention` primitive, with the composite it replaced
// (matmul, mask, softmax, matmul) on the next row; softmax and layerNorm are compositions of
// primitives here (several passes over memory), and the last rows time the addon's fused row
// kernels on the same shapes, the gain a fused primitive would bring.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  compositeAttention,
  getBackend,
  layerNorm,
  manualSeed,
  randn,
  scaledDotProductAttention,
  scope,
  softmax,
  type Tensor,
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
    name: "layerNorm (768, affine)",
    shape: [LR, LC],
    bytes: 2 * 4 * LR * LC,
    make: () => [randn([LR, LC]), randn([LC]), randn([LC])],
    run: ([x, w, b]) => layerNorm(x as Tensor, [LC], w, b),
    check: ([x, w, b]) => layerNorm((x as Tensor).slice(0, 0, 4), [LC], w, b),
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
const peerScript = `
import json, sys, time
import numpy as np
q = json.loads(sys.argv[1]); budget = float(sys.argv[2]); rng = np.random.default_rng(0)
def timeit(f):
    f(); t0 = time.perf_counter(); f(); once = max(time.perf_counter() - t0, 1e-6)
    xs = []
    for _ in range(max(3, min(100, round(budget / once)))):
        t = time.perf_counter(); f(); xs.append(time.perf_counter() - t)
    xs.sort(); return xs[len(xs) // 2]
R, C = q["softmax"]; x = rng.standard_normal((R, C), dtype=np.float32)
def sm():
    e = np.exp(x - x.max(-1, keepdims=True)); return e / e.sum(-1, keepdims=True)
LR, LC = q["layerNorm"]; y = rng.standard_normal((LR, LC), dtype=np.float32); w = np.ones(LC, np.float32); b = np.zeros(LC, np.float32)
def ln():
    mu = y.mean(-1, keepdims=True); var = y.var(-1, keepdims=True); return (y - mu) / np.sqrt(var + 1e-5) * w + b
B, H, T, D = q["attention"]; qq, kk, vv = (rng.standard_normal((B, H, T, D), dtype=np.float32) for _ in range(3))
mask = np.triu(np.ones((T, T), dtype=bool), 1)
def at():
    s = (qq @ kk.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(D)); s[..., mask] = -np.inf
    s = np.exp(s - s.max(-1, keepdims=True)); s /= s.sum(-1, keepdims=True); return s @ vv
print(json.dumps([timeit(sm), timeit(ln), timeit(at)]))
`;
function peer(): number[] | null {
  if (!existsSync(python) || spawnSync(python, ["-c", "import numpy"]).status !== 0) {
    console.log("numpy peer skipped: install it with `apt-get install -y python3-numpy libopenblas0-pthread`");
    return null;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(addon.numThreads()) };
  const shapes = JSON.stringify({ softmax: [R, C], layerNorm: [LR, LC], attention: [B, H, T, D] });
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
// The addon's fused row kernels on the same shapes: what promoting softmax / layerNorm to fused
// primitives would give (validated against the composite first).
{
  const x = randn([R, C]);
  const xs = x.dataSync() as Float32Array;
  const y = new Float32Array(R * C);
  addon.softmaxRows(xs, y, R, C);
  const want = softmax(x.slice(0, 0, 2), -1).dataSync() as Float32Array;
  for (let j = 0; j < want.length; j++) {
    if (!(Math.abs((y[j] as number) - (want[j] as number)) <= 1e-5))
      throw new Error("bench/ops: fused softmax disagrees");
  }
  const lx = randn([LR, LC]).dataSync() as Float32Array;
  const w = new Float32Array(LC).fill(1);
  const b = new Float32Array(LC);
  const ly = new Float32Array(LR * LC);
  const rows: Array<[string, number[], number, () => void, number | undefined]> = [
    ["softmax (fused kernel)", [R, C], 2 * 4 * R * C, () => addon.softmaxRows(xs, y, R, C), peerSecs?.[0]],
    [
      "layerNorm (fused kernel)",
      [LR, LC],
      2 * 4 * LR * LC,
      () => addon.layerNormRows(lx, w, b, 1e-5, ly, null, null, LR, LC),
      peerSecs?.[1],
    ],
  ];
  const [q, k, v] = [0, 1, 2].map(() => randn([B, H, T, D]).dataSync() as Float32Array) as [
    Float32Array,
    Float32Array,
    Float32Array,
  ];
  const att = new Float32Array(B * H * T * D);
  const lse = new Float32Array(B * H * T);
  rows.push([
    "attention (fused kernel)",
    [B, H, T, D],
    4 * 4 * B * H * T * D,
    () =>
      addon.attention(
        q,
        0,
        [H * T * D, T * D, D],
        k,
        0,
        [H * T * D, T * D, D],
        v,
        0,
        [H * T * D, T * D, D],
        null,
        0,
        [0, 0, 0, 0],
        att,
        lse,
        [B, H, H, T, T, D, D],
        1 / Math.sqrt(D),
        true,
      ),
    peerSecs?.[2],
  ]);
  for (const [name, shape, bytes, run, p] of rows) {
    const secs = time(run);
    const gbs = bytes / secs / 1e9;
    console.log(
      [
        name.padEnd(25),
        JSON.stringify(shape).padEnd(18),
        (secs * 1e3).toFixed(2).padStart(8),
        gbs.toFixed(1).padStart(7),
        `${((100 * gbs) / copyGBs).toFixed(0)}%`.padStart(6),
        p ? (p * 1e3).toFixed(2).padStart(10) : "         -",
        p ? (p / secs).toFixed(2).padStart(11) : "          -",
      ].join(" "),
    );
  }
}
console.log("\nNote: the machine's 2 cores may be shared with other work; numbers are noisy.");
