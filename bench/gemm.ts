// GEMM benchmark: our native float32 GEMM against numpy's (OpenBLAS) on the same shapes in one
// run, with 1 and 2 threads, printing the ratio ours/OpenBLAS; then bfloat16 against our own
// float32 at 1024³, and the batch-1 shapes against the measured copy bandwidth.
//
//   npm run bench -- gemm [--threads 1,2] [--kernel avx512|avx2|generic] [--quick]
//                         [--rounds 5] [--shapes 2048,dW] [--no-peer]
//
// Shapes: the square ones, the transformer ones (a GPT-2-small MLP at 512 tokens and the LM
// head at 128 tokens), the same products as the model runs them (x·Wᵀ with W stored
// [out, in]) and their backward products (dX = dY·W, dW = dYᵀ·X), whose transposed operands
// are strided views packed without a copy (numpy gets the same views, as .T). `--shapes` keeps
// the shapes whose label contains one of the comma-separated words.
//
// Timing under load: ours and the peer alternate, shape by shape, for `--rounds` rounds, and
// each keeps its best repetition. With 1 thread the figure is CPU time (of our process, of the
// peer's calling thread), which other work on the machine barely inflates; with more threads it
// is wall time. The load average is printed before and after.
//
// Peer: Debian's numpy with OpenBLAS (`apt-get install -y python3-numpy libopenblas0-pthread`;
// without OpenBLAS, numpy falls back to the slow reference BLAS), run as /usr/bin/python3 with
// bench/peers/numpy_gemm.py, which stays up for the whole run.
// This environment sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, which pin OpenBLAS to a slower
// kernel; the peer runs with both unset (in its own command only) and reports the kernel used.
// Where OpenBLAS does not recognise the CPU and falls back to a pre-AVX2 kernel, the peer is
// restarted with OPENBLAS_CORETYPE naming the newest kernel the CPU supports, and says so.
import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
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
const rounds = Number(opt("rounds") ?? (quick ? 3 : 5));
const kernel = opt("kernel");
if (kernel && !addon.selectGemmKernel(kernel)) {
  console.error(`bench/gemm: kernel '${kernel}' is not available on this CPU`);
  process.exit(2);
}

/** C[M×N] = A·B with K the inner size; ta/tb: A (B) is the transpose of a row-major array. */
interface Shape {
  M: number;
  N: number;
  K: number;
  ta: boolean;
  tb: boolean;
  note: string;
}
const shape = (M: number, N: number, K: number, ta = false, tb = false, note = ""): Shape => ({
  M,
  N,
  K,
  ta,
  tb,
  note,
});
const allShapes: Shape[] = [
  shape(256, 256, 256),
  shape(512, 512, 512),
  shape(1024, 1024, 1024),
  shape(2048, 2048, 2048),
  shape(512, 3072, 768),
  shape(512, 768, 3072),
  shape(128, 50257, 768),
  // As a Linear layer runs them: x·Wᵀ with W stored [out, in].
  shape(512, 3072, 768, false, true, "x·Wᵀ"),
  shape(512, 768, 3072, false, true, "x·Wᵀ"),
  shape(128, 50257, 768, false, true, "x·Eᵀ"),
  // Their backward: dX = dY·W (W [out, in] read as is) and dW = dYᵀ·X.
  shape(512, 768, 3072, false, false, "dX"),
  shape(512, 3072, 768, false, false, "dX"),
  shape(3072, 768, 512, true, false, "dW"),
  shape(768, 3072, 512, true, false, "dW"),
  // A rank-8 LoRA adapter on a 768 → 2304 projection (GPT-2's c_attn), 512 tokens: h = x·Aᵀ,
  // y += h·Bᵀ (PEFT stores lora_A [8, 768], lora_B [2304, 8]) and the backward products
  // dH = dY·B, dB = dYᵀ·h, dA = dHᵀ·x, dX += dH·A. One of M, N, K is 8 in each.
  shape(512, 8, 768, false, true, "lora x·Aᵀ"),
  shape(512, 2304, 8, false, true, "lora h·Bᵀ"),
  shape(512, 8, 2304, false, false, "lora dH"),
  shape(2304, 8, 512, true, false, "lora dB"),
  shape(8, 768, 512, true, false, "lora dA"),
  shape(512, 768, 8, false, false, "lora dX"),
  // Rank 16: the products with N = 16 run as Cᵀ = Bᵀ·Aᵀ (N = 8 goes to the matrix-vector path).
  shape(512, 16, 768, false, true, "lora16 x·Aᵀ"),
  shape(512, 16, 2304, false, false, "lora16 dH"),
  shape(2304, 16, 512, true, false, "lora16 dB"),
  // A short prompt (16 to 64 tokens) through a Linear layer and the LM head.
  shape(16, 3072, 768, false, true, "x·Wᵀ short"),
  shape(32, 2304, 768, false, true, "x·Wᵀ short"),
  shape(64, 768, 3072, false, true, "x·Wᵀ short"),
  shape(32, 50257, 768, false, true, "x·Eᵀ short"),
  shape(1, 3072, 768),
  shape(1, 50257, 768),
];
const label = (s: Shape) =>
  `${s.ta ? `(${s.K}x${s.M})ᵀ` : `${s.M}x${s.K}`}·${s.tb ? `(${s.N}x${s.K})ᵀ` : `${s.K}x${s.N}`}${s.note ? ` ${s.note}` : ""}`;
const only = opt("shapes")?.split(",");
const shapes = only ? allShapes.filter((s) => only.some((w) => label(s).includes(w))) : allShapes;

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
/**
 * Our operands live where a tensor's storage does (the addon's allocator: 64-byte aligned, and
 * large blocks on huge pages where it maps them so), not in V8's heap; numpy likewise puts
 * arrays of 4 MB and more on transparent huge pages, which spares the packing and the C
 * updates a page walk every 4 KB (measured 1-5% on the large shapes, one thread).
 */
function floats(n: number, fill?: () => number): Float32Array {
  const x = new Float32Array(addon.allocate(4 * n));
  if (fill) for (let i = 0; i < n; i++) x[i] = fill();
  return x;
}
function operands(s: Shape): Operands {
  return { a: floats(s.M * s.K, rand), b: floats(s.K * s.N, rand), c: floats(s.M * s.N) };
}
/** Element strides [batch, row, column] of A (M×K) and B (K×N) for the shape's layouts. */
const aStrides = (s: Shape): [number, number, number] => (s.ta ? [0, 1, s.M] : [0, s.K, 1]);
const bStrides = (s: Shape): [number, number, number] => (s.tb ? [0, 1, s.K] : [0, s.N, 1]);
function ours(s: Shape, o: Operands): void {
  addon.gemm("float32", s.M, s.N, s.K, 1, o.a, 0, aStrides(s), o.b, 0, bStrides(s), o.c, 0, [0, s.N, 1], 1, 0);
}
/** Checks 64 random entries of C against a float64 dot product before any timing. */
function validate(s: Shape, o: Operands): void {
  ours(s, o);
  const [, ar, ac] = aStrides(s);
  const [, br, bc] = bStrides(s);
  for (let t = 0; t < 64; t++) {
    const i = Math.floor((rand() + 0.5) * s.M);
    const j = Math.floor((rand() + 0.5) * s.N);
    let sum = 0;
    let mag = 0;
    for (let k = 0; k < s.K; k++) {
      const p = (o.a[i * ar + k * ac] ?? 0) * (o.b[k * br + j * bc] ?? 0);
      sum += p;
      mag += Math.abs(p);
    }
    const got = o.c[i * s.N + j] ?? Number.NaN;
    if (!(Math.abs(got - sum) <= 1e-5 * mag + 1e-6)) throw new Error(`bench/gemm: wrong result for ${label(s)}`);
  }
}

/** Seconds per repetition, wall and CPU, best of each. */
interface Timing {
  wall: number;
  cpu: number;
}
const best = (xs: Timing[]): Timing => ({
  wall: Math.min(...xs.map((x) => x.wall)),
  cpu: Math.min(...xs.map((x) => x.cpu)),
});
/** Best wall seconds of fn over enough repetitions to fill about `budget` seconds. */
function time(fn: () => void, budget = quick ? 0.15 : 0.4): number {
  fn();
  const once = Math.max(best(timeOurs(fn, 1)).wall, 1e-6);
  return best(timeOurs(fn, Math.max(3, Math.min(200, Math.round(budget / once))))).wall;
}
function timeOurs(fn: () => void, reps: number): Timing[] {
  const out: Timing[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    out.push({ wall, cpu: (c.user + c.system) / 1e6 });
  }
  return out;
}

// ---- the numpy peer -------------------------------------------------------------------------
const python = "/usr/bin/python3";
const peerScript = join(import.meta.dirname, "peers", "numpy_gemm.py");
// OpenBLAS kernels that predate AVX2: autodetection falls back to one of these on CPU models it
// does not know (e.g. new Xeons under a hypervisor).
const LEGACY_CORES = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Atom", "Banias"];

class Peer {
  private readonly lines: AsyncIterator<string>;
  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly core: string,
    readonly numpy: string,
    lines: AsyncIterator<string>,
  ) {
    this.lines = lines;
  }
  static async start(coreType?: string): Promise<Peer | null> {
    const env: NodeJS.ProcessEnv = { ...process.env, OPENBLAS_NUM_THREADS: String(Math.max(...threadCounts)) };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    if (coreType) env.OPENBLAS_CORETYPE = coreType;
    const child = spawn(python, [peerScript], { env });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) {
      console.log(`numpy peer failed: ${stderr.trim().split("\n").pop()}`);
      return null;
    }
    const hello = JSON.parse(first.value) as { core: string; numpy: string };
    const peer = new Peer(child, hello.core, hello.numpy, lines);
    const bestCore = bestCoreType();
    if (!coreType && bestCore && LEGACY_CORES.some((c) => hello.core.startsWith(c))) {
      console.log(
        `OpenBLAS autodetected its legacy '${hello.core}' kernel on this CPU; restarting the peer with ` +
          `OPENBLAS_CORETYPE=${bestCore} (the newest kernel this CPU supports) so the peer is at its best`,
      );
      peer.stop();
      return Peer.start(bestCore);
    }
    if (hello.core.startsWith("unknown")) {
      console.log(
        "warning: numpy is not using OpenBLAS (reference BLAS?): `apt-get install -y libopenblas0-pthread` for a fair peer",
      );
    }
    return peer;
  }
  async time(s: Shape, threads: number, reps: number): Promise<Timing[]> {
    const { M, N, K } = s;
    this.child.stdin.write(`${JSON.stringify({ M, N, K, ta: s.ta, tb: s.tb, threads, reps })}\n`);
    const r = await this.lines.next();
    if (r.done) throw new Error("bench/gemm: the numpy peer exited");
    const { wall, cpu } = JSON.parse(r.value) as { wall: number[]; cpu: number[] };
    return wall.map((w, i) => ({ wall: w, cpu: cpu[i] ?? w }));
  }
  stop(): void {
    this.child.stdin.end();
  }
}
function havePeer(): boolean {
  if (args.includes("--no-peer") || !existsSync(python)) return false;
  return spawnSync(python, ["-c", "import numpy"], { encoding: "utf8" }).status === 0;
}

// ---- run ------------------------------------------------------------------------------------
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");
const features = addon.cpuFeatures();
console.log(
  `native gemm kernel: ${addon.gemmKernel("float32")} (float32), ${addon.gemmKernel("bfloat16")} (bfloat16); ` +
    `cpu: avx2=${features.avx2} avx512f=${features.avx512f} avx512bf16=${features.avx512bf16}; load average ${load()}`,
);
const peer = havePeer() ? await Peer.start() : null;
if (!peer && !args.includes("--no-peer")) {
  console.log("numpy peer skipped: install it with `apt-get install -y python3-numpy libopenblas0-pthread`");
}
const ops = new Map<string, Operands>();
for (const s of shapes) {
  const o = operands(s);
  validate(s, o);
  ops.set(label(s), o);
}

const budget = quick ? 0.04 : 0.1; // seconds per side per round
for (const threads of threadCounts) {
  addon.setNumThreads(threads);
  const metric = threads === 1 ? "cpu" : "wall";
  console.log(
    `\n== float32, ${threads} thread(s), best ${metric} time of ${rounds} alternating rounds` +
      `${peer ? `; peer numpy ${peer.numpy}, OpenBLAS core ${peer.core}` : ""}`,
  );
  console.log("shape                              ours ms  GFLOP/s   numpy ms  GFLOP/s  ours/numpy");
  for (const s of shapes) {
    const o = ops.get(label(s)) as Operands;
    const run = () => ours(s, o);
    run();
    const once = Math.max(best(timeOurs(run, 1)).wall, 1e-6);
    const reps = Math.max(2, Math.min(100, Math.round(budget / once)));
    const mine: Timing[] = [];
    const theirs: Timing[] = [];
    for (let r = 0; r < rounds; r++) {
      mine.push(...timeOurs(run, reps));
      if (peer) theirs.push(...(await peer.time(s, threads, reps)));
    }
    const secs = best(mine)[metric];
    const peerSecs = peer ? best(theirs)[metric] : undefined;
    const flops = 2 * s.M * s.N * s.K;
    const cols = [
      label(s).padEnd(32),
      (secs * 1e3).toFixed(3).padStart(9),
      (flops / secs / 1e9).toFixed(1).padStart(8),
      peerSecs ? (peerSecs * 1e3).toFixed(3).padStart(10) : "         -",
      peerSecs ? (flops / peerSecs / 1e9).toFixed(1).padStart(8) : "       -",
      peerSecs ? (peerSecs / secs).toFixed(2).padStart(11) : "          -",
    ];
    console.log(cols.join(" "));
  }
}
peer?.stop();

// bfloat16 inputs (float32 accumulation) against our own float32, 1024³ (skipped by --shapes).
if (!only) {
  const n = 1024;
  const a16 = new Uint16Array(addon.allocate(2 * n * n));
  const b16 = new Uint16Array(addon.allocate(2 * n * n));
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let i = 0; i < n * n; i++) {
    f[0] = rand();
    a16[i] = (u[0] ?? 0) >>> 16;
    f[0] = rand();
    b16[i] = (u[0] ?? 0) >>> 16;
  }
  const c = floats(n * n);
  const sq = shape(n, n, n);
  const o = ops.get(label(sq)) ?? operands(sq);
  console.log(`\n== bfloat16 inputs (${addon.gemmKernel("bfloat16")}) vs our float32 at 1024³`);
  for (const threads of threadCounts) {
    addon.setNumThreads(threads);
    const tb = time(() =>
      addon.gemm("bfloat16", n, n, n, 1, a16, 0, [0, n, 1], b16, 0, [0, n, 1], c, 0, [0, n, 1], 1, 0),
    );
    const tf = time(() => ours(sq, o));
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
    for (const s of shapes.filter((x) => x.M === 1)) {
      const o = ops.get(label(s)) as Operands;
      const secs = time(() => ours(s, o));
      const gbs = (s.N * s.K * 4) / secs / 1e9;
      console.log(
        `${threads} thread(s) ${label(s).padEnd(18)} ${(secs * 1e3).toFixed(3)} ms  ${gbs.toFixed(1)} GB/s of matrix = ` +
          `${((100 * gbs) / copyGBs).toFixed(0)}% of copy bandwidth`,
      );
    }
  }
}
addon.setNumThreads(0);
console.log(`\nload average ${load()}; the cores may be shared with other work: compare ratios, not absolutes.`);
