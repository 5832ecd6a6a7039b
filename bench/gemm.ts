// GEMM benchmark: our native float32 GEMM against numpy's (OpenBLAS) on the same shapes in one
// run, with 1 and 2 threads, printing the ratio ours/OpenBLAS; then bfloat16 against our own
// float32 at 1024³, and the batch-1 shapes against the measured copy bandwidth.
//
//   npm run bench -- gemm [--threads 1,2] [--kernel avx512|avx2|generic] [--quick]
//
// Peer: Debian's numpy with OpenBLAS (`apt-get install -y python3-numpy libopenblas0-pthread`;
// without OpenBLAS, numpy falls back to the slow reference BLAS), run as /usr/bin/python3.
// This environment sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which pin OpenBLAS to a slower
// kernel; the peer runs with both unset (in its own command only) and reports the kernel used.
// Where OpenBLAS does not recognise the CPU and falls back to a pre-AVX2 kernel, the peer is
// rerun with OPENBLAS_CORETYPE naming the newest kernel the CPU supports, and says so.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { native } from "../packages/tensor/src/native/index.ts";
import { bestCoreType } from "./peers/python.ts";

if (!native) {
  console.error("bench/gemm: the native addon is not built (run `npm install`)");
  process.exit(1);
}
const addon = native;

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const threadCounts = (opt("threads") ?? "1,2").split(",").map(Number);
const quick = args.includes("--quick");
const kernel = opt("kernel");
if (kernel && !addon.selectGemmKernel(kernel)) {
  console.error(`bench/gemm: kernel '${kernel}' is not available on this CPU`);
  process.exit(2);
}

type Shape = [number, number, number]; // M, N, K
const shapes: Shape[] = [
  [256, 256, 256],
  [512, 512, 512],
  [1024, 1024, 1024],
  [2048, 2048, 2048],
  [512, 3072, 768],
  [512, 768, 3072],
  [128, 50257, 768],
  [1, 3072, 768],
  [1, 50257, 768],
];
const label = ([M, N, K]: Shape) => `${M}x${K}·${K}x${N}`;

/**
 * Best (minimum) seconds of fn over enough repetitions to fill about `budget` seconds. The
 * minimum, for ours and the peer alike, because other work shares these cores in bursts.
 */
function time(fn: () => void, budget = quick ? 0.15 : 0.4): number {
  fn();
  const t0 = performance.now();
  fn();
  const once = Math.max((performance.now() - t0) / 1000, 1e-6);
  const reps = Math.max(3, Math.min(200, Math.round(budget / once)));
  const samples: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    fn();
    samples.push((performance.now() - t) / 1000);
  }
  return Math.min(...samples);
}

let seed = 1;
const rand = () => {
  seed = (seed * 1103515245 + 12345) >>> 0;
  return seed / 2 ** 32 - 0.5;
};

interface Operands {
  a: Float32Array;
  b: Float32Array;
  c: Float32Array;
}
function operands([M, N, K]: Shape): Operands {
  return {
    a: Float32Array.from({ length: M * K }, rand),
    b: Float32Array.from({ length: K * N }, rand),
    c: new Float32Array(M * N),
  };
}
function ours([M, N, K]: Shape, o: Operands): void {
  addon.gemm("float32", M, N, K, 1, o.a, 0, [0, K, 1], o.b, 0, [0, N, 1], o.c, 0, [0, N, 1], 1, 0);
}
/** Checks 64 random entries of C against a float64 dot product before any timing. */
function validate(shape: Shape, o: Operands): void {
  const [M, N, K] = shape;
  ours(shape, o);
  for (let t = 0; t < 64; t++) {
    const i = Math.floor((rand() + 0.5) * M);
    const j = Math.floor((rand() + 0.5) * N);
    let s = 0;
    let mag = 0;
    for (let k = 0; k < K; k++) {
      const p = (o.a[i * K + k] ?? 0) * (o.b[k * N + j] ?? 0);
      s += p;
      mag += Math.abs(p);
    }
    const got = o.c[i * N + j] ?? Number.NaN;
    if (!(Math.abs(got - s) <= 1e-5 * mag + 1e-6)) throw new Error(`bench/gemm: wrong result for ${label(shape)}`);
  }
}

// ---- the numpy peer -------------------------------------------------------------------------
const python = "/usr/bin/python3";
const peerScript = `
import json, sys, time, ctypes
import numpy as np
shapes = json.loads(sys.argv[1]); budget = float(sys.argv[2])
core = "unknown"
try:
    for line in open("/proc/self/maps"):
        if "openblas" in line:
            lib = ctypes.CDLL(line.split()[-1]); lib.openblas_get_corename.restype = ctypes.c_char_p
            core = lib.openblas_get_corename().decode(); break
except Exception as e:
    core = "unknown (%s)" % e
out = []
rng = np.random.default_rng(0)
for M, N, K in shapes:
    a = rng.standard_normal((M, K), dtype=np.float32); b = rng.standard_normal((K, N), dtype=np.float32)
    c = np.empty((M, N), dtype=np.float32)
    np.matmul(a, b, out=c); t0 = time.perf_counter(); np.matmul(a, b, out=c); once = max(time.perf_counter() - t0, 1e-6)
    reps = max(3, min(200, round(budget / once))); xs = []
    for _ in range(reps):
        t = time.perf_counter(); np.matmul(a, b, out=c); xs.append(time.perf_counter() - t)
    out.append(min(xs))
print(json.dumps({"core": core, "numpy": np.__version__, "seconds": out}))
`;

interface PeerResult {
  core: string;
  numpy: string;
  seconds: number[];
}
// OpenBLAS kernels that predate AVX2: autodetection falls back to one of these on CPU models it
// does not know (e.g. new Xeons under a hypervisor).
const LEGACY_CORES = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Atom", "Banias"];

let legacyNoted = false;
function runPeer(threads: number, coreType?: string): PeerResult | null {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    OPENBLAS_NUM_THREADS: String(threads),
    OMP_NUM_THREADS: String(threads),
  };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (coreType) env.OPENBLAS_CORETYPE = coreType;
  const r = spawnSync(python, ["-c", peerScript, JSON.stringify(shapes), String(quick ? 0.15 : 0.4)], {
    env,
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) {
    console.log(`numpy peer failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`);
    return null;
  }
  const result = JSON.parse(r.stdout) as PeerResult;
  const best = bestCoreType();
  if (!coreType && best && LEGACY_CORES.some((c) => result.core.startsWith(c))) {
    if (!legacyNoted)
      console.log(
        `OpenBLAS autodetected its legacy '${result.core}' kernel on this CPU; rerunning the peer with ` +
          `OPENBLAS_CORETYPE=${best} (the newest kernel this CPU supports) so the peer is at its best`,
      );
    legacyNoted = true;
    return runPeer(threads, best);
  }
  if (result.core.startsWith("unknown")) {
    console.log(
      "warning: numpy is not using OpenBLAS (reference BLAS?): `apt-get install -y libopenblas0-pthread` for a fair peer",
    );
  }
  return result;
}
function havePeer(): boolean {
  if (!existsSync(python)) return false;
  return spawnSync(python, ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
}

// ---- run ------------------------------------------------------------------------------------
const features = addon.cpuFeatures();
console.log(
  `native gemm kernel: ${addon.gemmKernel("float32")} (float32), ${addon.gemmKernel("bfloat16")} (bfloat16); ` +
    `cpu: avx2=${features.avx2} avx512f=${features.avx512f} avx512bf16=${features.avx512bf16}`,
);
const peer = havePeer();
if (!peer) {
  console.log("numpy peer skipped: install it with `apt-get install -y python3-numpy libopenblas0-pthread`");
}
const ops = new Map<string, Operands>();
for (const s of shapes) {
  const o = operands(s);
  validate(s, o);
  ops.set(label(s), o);
}

for (const threads of threadCounts) {
  addon.setNumThreads(threads);
  // The peer runs before and after ours; each shape keeps its better time.
  const p = peer ? runPeer(threads) : null;
  const mine = shapes.map((s) => time(() => ours(s, ops.get(label(s)) as Operands)));
  const p2 = peer ? runPeer(threads) : null;
  if (p && p2) p.seconds = p.seconds.map((x, i) => Math.min(x, p2.seconds[i] ?? x));
  console.log(`\n== float32, ${threads} thread(s)${p ? `; peer numpy ${p.numpy}, OpenBLAS core ${p.core}` : ""}`);
  console.log("shape                      ours ms  GFLOP/s   numpy ms  GFLOP/s  ours/numpy");
  shapes.forEach((s, idx) => {
    const secs = mine[idx] as number;
    const flops = 2 * s[0] * s[1] * s[2];
    const peerSecs = p?.seconds[idx];
    const cols = [
      label(s).padEnd(24),
      (secs * 1e3).toFixed(3).padStart(9),
      (flops / secs / 1e9).toFixed(1).padStart(8),
      peerSecs ? (peerSecs * 1e3).toFixed(3).padStart(10) : "         -",
      peerSecs ? (flops / peerSecs / 1e9).toFixed(1).padStart(8) : "       -",
      peerSecs ? (peerSecs / secs).toFixed(2).padStart(11) : "          -",
    ];
    console.log(cols.join(" "));
  });
}

// bfloat16 inputs (float32 accumulation) against our own float32, 1024³.
{
  const n = 1024;
  const a16 = new Uint16Array(n * n);
  const b16 = new Uint16Array(n * n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < n * n; i++) {
    f[0] = rand();
    a16[i] = (u[0] ?? 0) >>> 16;
    f[0] = rand();
    b16[i] = (u[0] ?? 0) >>> 16;
  }
  const c = new Float32Array(n * n);
  const o = ops.get(label([n, n, n])) as Operands;
  console.log(`\n== bfloat16 inputs (${addon.gemmKernel("bfloat16")}) vs our float32 at 1024³`);
  for (const threads of threadCounts) {
    addon.setNumThreads(threads);
    const tb = time(() =>
      addon.gemm("bfloat16", n, n, n, 1, a16, 0, [0, n, 1], b16, 0, [0, n, 1], c, 0, [0, n, 1], 1, 0),
    );
    const tf = time(() => ours([n, n, n], o));
    const g = (t: number) => ((2 * n ** 3) / t / 1e9).toFixed(1);
    console.log(`${threads} thread(s): bf16 ${g(tb)} GFLOP/s, f32 ${g(tf)} GFLOP/s, bf16/f32 ${(tf / tb).toFixed(2)}x`);
  }
}

// Batch-1 shapes against the copy bandwidth measured here (read + write bytes of a 256 MB copy).
{
  const src = new Float32Array(32 << 20);
  const dst = new Float32Array(32 << 20);
  src.fill(1);
  const tc = time(() => dst.set(src), 1);
  const copyGBs = (2 * src.byteLength) / tc / 1e9;
  console.log(`\n== batch-1 (matrix-vector): copy bandwidth ${copyGBs.toFixed(1)} GB/s (read+write, 256 MB)`);
  for (const threads of threadCounts) {
    addon.setNumThreads(threads);
    for (const s of shapes.filter((x) => x[0] === 1)) {
      const o = ops.get(label(s)) as Operands;
      const secs = time(() => ours(s, o));
      const gbs = (s[1] * s[2] * 4) / secs / 1e9;
      console.log(
        `${threads} thread(s) ${label(s).padEnd(18)} ${(secs * 1e3).toFixed(3)} ms  ${gbs.toFixed(1)} GB/s of matrix = ` +
          `${((100 * gbs) / copyGBs).toFixed(0)}% of copy bandwidth`,
      );
    }
  }
}
addon.setNumThreads(0);
console.log("\nNote: the machine's 2 cores may be shared with other work; compare ratios, not absolutes.");
