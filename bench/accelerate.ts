// Accelerate throughput on the CPU, on a GPT-2-shaped model: 4 layers, d 512, 8 heads, vocab
// 4096, batch 8x128 tokens (17M parameters, about 0.1 TFLOP per step, 78% of its kernel CPU time
// in GEMMs by HEARTH_PROFILE=1; its 68 MB gradient is all-reduced once per step):
//  1. mixed precision: training steps/s with mixedPrecision "no" (float32, the baseline) and
//     "bf16" (matmuls and both backward GEMMs through the native bf16 GEMM, float32
//     accumulation and master weights), run alternately twice, best of each, wall clock and
//     CPU time, and their ratio;
//  2. data parallel, same global batch (splitBatches; 16x128 tokens by default, `--dp-batch`,
//     so each of 2 processes still multiplies 1024-row GEMMs and per-parameter work, the
//     optimiser and the all-reduce, stays small beside them), every configuration a fresh
//     `launch` so its kernel thread count (HEARTH_NUM_THREADS) is fixed:
//       1 process x 1 thread      the single-core baseline
//       2 processes x 1 thread    data parallel with a gradient all-reduce and the whole
//                                 optimiser on every replica: "scaling" = baseline / this
//       2 processes x 1 thread    the same with ZeRO-1 (zeroStage 1): reduce-scatter, each rank
//                                 steps half the parameters, all-gather of the parameters
//       1 process x 2 threads     what one process already gets from the native thread pool
//       half batch alone              1 process x 1 thread on half the global batch
//       2 independent half batches    two such runs at once, sharing only a start barrier: the
//                                     ceiling, the most any 2-process data parallel can reach
//                                     on this host (1x1 / this); "per-process slowdown" = this
//                                     over the half batch alone, by phase (CPU time)
//     run alternately `--rounds` times (default 2), each keeping its fastest run, with the load
//     average printed after every run; and "2x1 vs 1x2", the honest question on a 2-core
//     machine: does data parallel beat giving one process both cores? Every rank reports its
//     CPU time per step split into forward, backward with the gradient sync, and optimiser
//     (with ZeRO-1's all-gather), and the wall-clock and CPU time of its collectives: wall
//     minus CPU is the time it waited for the other rank. A contention probe then runs single
//     kernels alone and two at once (a GEMM of the model, a memory-streaming add and AdamW over
//     the parameter count) to show which kinds of work slow when both cores run.
//  3. the same data-parallel table for a compute-bound model (`--cb-layers 2 --cb-width 1024`:
//     34M parameters, a 135 MB gradient, 88% of its kernel CPU time in GEMMs), `--skip-cb` skips it;
//  4. after the bench model's table, a transport micro-benchmark: all-reduces of the gradient's size and barrier
//     round trips: shared mappings with the named-pipe barrier, with the IPC barrier, and
//     pread/pwrite files.
//
//   npm run bench -- accelerate [--layers 4] [--width 512] [--vocab 4096] [--batch 8] [--dp-batch 16] [--seq 128] [--steps 4] [--rounds 2] [--cb-layers 2] [--cb-width 1024] [--skip-mp] [--skip-dp] [--skip-cb]
//   (the GPT-2-small shape, 124M parameters and a 50257 vocabulary, is `--layers 12 --width 768
//   --vocab 50257`, about 11 s a step on one core)
//
// Numbers taken on the shared 2-core development machine are noisy: other jobs run beside them.
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import {
  Accelerator,
  defaultTransport,
  LocalTransport,
  launch,
  type MixedPrecision,
  type Transport,
} from "../packages/accelerate/src/index.ts";
import {
  AdamW,
  add,
  arange,
  crossEntropy,
  Embedding,
  fullLike,
  gelu,
  getBackend,
  keep,
  LayerNorm,
  Linear,
  Module,
  manualSeed,
  randint,
  reshape,
  scaledDotProductAttention,
  scope,
  split,
  type Tensor,
  transpose,
} from "../packages/tensor/src/index.ts";
import { native } from "../packages/tensor/src/native/index.ts";

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const L = opt("layers", 4);
const C = opt("width", 512);
const H = 8;
const V = opt("vocab", 4096);
const B = opt("batch", 8);
// the data-parallel runs' global batch: 16x128 tokens, 8x128 per process with 2 (see the header)
const DP_B = opt("dp-batch", 16);
const T = opt("seq", 128);
const STEPS = opt("steps", 4);
// data-parallel configurations are run alternately this many times, each keeping its best
const ROUNDS = opt("rounds", 2);

class Block extends Module {
  ln1 = this.registerModule("ln_1", new LayerNorm([C]));
  attn = this.registerModule("c_attn", new Linear(C, 3 * C));
  proj = this.registerModule("c_proj", new Linear(C, C));
  ln2 = this.registerModule("ln_2", new LayerNorm([C]));
  fc = this.registerModule("c_fc", new Linear(C, 4 * C));
  out = this.registerModule("mlp_proj", new Linear(4 * C, C));
  forward(x: Tensor): Tensor {
    const [b, t] = x.shape as [number, number];
    const [q, k, v] = split(this.attn.forward(this.ln1.forward(x)), C, -1).map((z) =>
      transpose(reshape(z, [b, t, H, C / H]), 1, 2),
    ) as [Tensor, Tensor, Tensor];
    const a = reshape(transpose(scaledDotProductAttention(q, k, v, { isCausal: true }), 1, 2), [b, t, C]);
    const h = add(x, this.proj.forward(a));
    return add(h, this.out.forward(gelu(this.fc.forward(this.ln2.forward(h)))));
  }
}
class Gpt extends Module {
  wte = this.registerModule("wte", new Embedding(V, C));
  wpe = this.registerModule("wpe", new Embedding(T, C));
  blocks = Array.from({ length: L }, (_, i) => this.registerModule(`h${i}`, new Block()));
  lnF = this.registerModule("ln_f", new LayerNorm([C]));
  head = this.registerModule("lm_head", new Linear(C, V, { bias: false }));
  forward(ids: Tensor): Tensor {
    const t = ids.shape[1] as number;
    let x = add(this.wte.forward(ids), this.wpe.forward(arange(t, undefined, 1, { dtype: "int64" })));
    for (const b of this.blocks) x = b.forward(x);
    return this.head.forward(this.lnF.forward(x));
  }
}

function data(): Tensor[] {
  manualSeed(7);
  return Array.from({ length: STEPS + 1 }, () => randint(0, V, [B, T + 1], { dtype: "int64" }));
}

/** CPU seconds since `from` (this process, all threads). */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1e6;
};

/** Per-step CPU seconds of the phases of the timed steps. */
interface Phases {
  forward: number;
  backward: number; // loss.backward() and, with several processes, the gradient all-reduce
  optimizer: number;
}

/**
 * Seconds per step after one warm-up step: wall clock, this process's CPU time, and its phases;
 * with a timed transport also each timed step's wall clock outside the collectives (`busyS`).
 */
async function run(
  acc: Accelerator,
  transport?: TimedTransport,
): Promise<{ s: number; cpuS: number; phases: Phases; busyS: number[] }> {
  manualSeed(1);
  const net = new Gpt();
  const [model, optim, loader] = await acc.prepare(net, new AdamW(net.parameters(), { lr: 1e-4 }), data());
  let start = 0;
  let cpu = process.cpuUsage();
  const phases: Phases = { forward: 0, backward: 0, optimizer: 0 };
  const busyS: number[] = [];
  let i = 0;
  for (const ids of loader) {
    const timed = i++ > 0;
    const stepStart = performance.now();
    const commBefore = transport?.seconds ?? 0;
    if (i === 2) {
      start = performance.now();
      cpu = process.cpuUsage();
      if (transport) transport.timing = true;
    }
    await scope(async () => {
      let t = process.cpuUsage();
      const inp = ids.narrow(1, 0, T);
      const tgt = ids.narrow(1, 1, T).contiguous();
      const logits = model.forward(inp);
      const loss = crossEntropy(reshape(logits, [-1, V]), reshape(tgt, [-1]));
      if (timed) phases.forward += cpuSince(t);
      t = process.cpuUsage();
      await acc.backward(loss);
      if (timed) phases.backward += cpuSince(t);
      t = process.cpuUsage();
      await optim.step(); // with zeroStage 1, also the all-gather of the updated parameters
      optim.zeroGrad();
      if (timed) phases.optimizer += cpuSince(t);
    });
    if (timed) busyS.push((performance.now() - stepStart) / 1000 - ((transport?.seconds ?? 0) - commBefore));
  }
  const n = i - 1;
  for (const k of Object.keys(phases) as (keyof Phases)[]) phases[k] /= n;
  return { s: (performance.now() - start) / 1000 / n, cpuS: cpuSince(cpu) / n, phases, busyS };
}

/**
 * Forwards to `inner`, adding up the wall-clock and CPU seconds spent in the gradient and
 * parameter collectives (all-reduce, reduce-scatter, segment all-gather) once `timing` is set.
 * Wall clock minus CPU is time spent waiting for the other process.
 */
class TimedTransport implements Transport {
  seconds = 0;
  cpuSeconds = 0;
  timing = false;
  constructor(readonly inner: Transport) {}
  private async timed(fn: () => Promise<void>): Promise<void> {
    if (!this.timing) return fn();
    const t = performance.now();
    const c = process.cpuUsage();
    await fn();
    this.seconds += (performance.now() - t) / 1000;
    this.cpuSeconds += cpuSince(c);
  }
  get rank() {
    return this.inner.rank;
  }
  get worldSize() {
    return this.inner.worldSize;
  }
  async allReduceSum(data: Float32Array, scale?: number) {
    await this.timed(() => this.inner.allReduceSum(data, scale));
  }
  allReduceBuffer(length: number) {
    return this.inner.allReduceBuffer?.(length) ?? new Float32Array(length);
  }
  async reduceScatterSum(data: Float32Array, bounds: readonly number[], scale?: number) {
    const inner = this.inner;
    if (!inner.reduceScatterSum) throw new Error("bench/accelerate: the transport lacks reduceScatterSum");
    await this.timed(() => inner.reduceScatterSum?.(data, bounds, scale) as Promise<void>);
  }
  async allGatherSegments(
    data: Float32Array,
    bounds: readonly number[],
    visit?: (values: Float32Array, at: number) => void,
  ) {
    const inner = this.inner;
    if (!inner.allGatherSegments) throw new Error("bench/accelerate: the transport lacks allGatherSegments");
    await this.timed(() => inner.allGatherSegments?.(data, bounds, visit) as Promise<void>);
  }
  gatherBuffer(length: number) {
    return this.inner.gatherBuffer?.(length) ?? new Float32Array(length);
  }
  allGather(data: Float32Array) {
    return this.inner.allGather(data);
  }
  broadcast(data: Float32Array, root?: number) {
    return this.inner.broadcast(data, root);
  }
  barrier() {
    return this.inner.barrier();
  }
  close() {
    return this.inner.close();
  }
}

/** Median seconds of `n` runs of `fn`. */
async function median(n: number, fn: () => Promise<void>): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = performance.now();
    await fn();
    t.push((performance.now() - s) / 1000);
  }
  return t.sort((a, b) => a - b)[Math.floor(n / 2)] as number;
}

/**
 * CPU milliseconds per call of one kernel of the step on one thread, for the contention probe:
 * "gemm", the MLP's up-projection [B·T, C]×[C, 4C] (compute); "add", an element-wise sum over
 * arrays of the parameter count (memory streaming, like the gradient copies and the
 * all-reduce); "adamw", the fused AdamW update of every parameter (streams 28 bytes a
 * parameter). Calls repeat for `seconds` of wall clock, so that two probes started together
 * overlap for nearly all of it.
 */
function probe(kind: string, params: number, seconds = 1.5): number {
  const nat = native as NonNullable<typeof native>;
  const fill = (n: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = ((i * 7919) % 1000) / 1000 - 0.5;
    return a;
  };
  let fn: () => void;
  if (kind === "gemm") {
    const [M, K, N] = [B * T, C, 4 * C];
    const [a, b, c] = [fill(M * K), fill(K * N), new Float32Array(M * N)];
    fn = () => nat.gemm("float32", M, N, K, 1, a, 0, [0, K, 1], b, 0, [0, N, 1], c, 0, [0, N, 1], 1, 0);
  } else if (kind === "add") {
    const [a, b, c] = [fill(params), fill(params), new Float32Array(params)];
    fn = () => nat.binary("add", a, 0, [1], b, 0, [1], c, [params]);
  } else {
    const [p, g, m, v] = [fill(params), fill(params), new Float32Array(params), new Float32Array(params)];
    fn = () => nat.adamStep(p, g, m, v, null, 1e-4, 1, 0.9, 0.999, 1e-8, 0.01, false, 1 - 1e-6);
  }
  fn();
  const start = performance.now();
  const cpu = process.cpuUsage();
  let calls = 0;
  while (performance.now() - start < seconds * 1000 || calls < 3) {
    fn();
    calls++;
  }
  return (cpuSince(cpu) * 1000) / calls;
}

/**
 * What data parallel adds to a step, alone: the Accelerator's gradient sync (copy in,
 * all-reduce or reduce-scatter, averaged gradients out) and, with ZeRO-1, the parameter
 * all-gather, on fresh gradients as a backward pass leaves them; median of 5, wall clock and
 * CPU seconds of this rank.
 */
async function syncAlone(acc: Accelerator): Promise<{ syncS: number; syncCpuS: number }> {
  const params = (acc.models[0] as Gpt).parameters();
  const sync = acc as unknown as { allReduceGradients(): Promise<void> };
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const p of params) {
      p.grad?.dispose();
      p.grad = keep(fullLike(p, 1e-3 * (i + 1)));
    }
    await acc.waitForEveryone();
    const c = process.cpuUsage();
    const t = performance.now();
    await sync.allReduceGradients();
    await acc.zeroPartition()?.gatherParameters();
    wall.push((performance.now() - t) / 1000);
    cpu.push(cpuSince(c));
  }
  const mid = (x: number[]) => x.sort((a, b) => a - b)[2] as number;
  return { syncS: mid(wall), syncCpuS: mid(cpu) };
}

if (process.env.HEARTH_RANK !== undefined) {
  // a launched worker: train (or probe a kernel), then with several processes time the transport
  const rank = Number(process.env.HEARTH_RANK);
  // independent runs (the ceiling, the probes) only start together: one barrier, then they
  // train alone with no communication at all
  const independent = process.env.HEARTH_BENCH_INDEPENDENT === "1";
  if (independent) await defaultTransport().barrier();
  const probeKind = process.env.HEARTH_BENCH_PROBE;
  const timed = new TimedTransport(independent ? new LocalTransport() : defaultTransport());
  const zeroStage = process.env.HEARTH_BENCH_ZERO === "1" ? 1 : 0;
  const acc = new Accelerator({ splitBatches: true, transport: timed, zeroStage });
  let out: Record<string, number | number[]>;
  if (probeKind) {
    manualSeed(1);
    const params = new Gpt().parameters().reduce((k, p) => k + p.size, 0);
    out = { rank, cpuMs: probe(probeKind, params) };
  } else {
    const { s, cpuS, phases, busyS } = await run(acc, timed);
    timed.timing = false;
    const params = (acc.models[0] as Gpt).parameters().reduce((k, p) => k + p.size, 0);
    out = {
      rank,
      s,
      cpuS,
      params,
      allReduceS: timed.seconds / STEPS,
      allReduceCpuS: timed.cpuSeconds / STEPS,
      ...phases,
      busyS,
    };
    if (acc.numProcesses > 1) Object.assign(out, await syncAlone(acc));
    if (acc.numProcesses > 1 && zeroStage === 0) {
      // the gradient's size, in the transport's own buffer as the Accelerator uses it
      const grads = (acc.transport.allReduceBuffer?.(params) ?? new Float32Array(params)).fill(1);
      out.gradMB = (grads.length * 4) / 1e6;
      const c = process.cpuUsage();
      out.reduceS = await median(5, () => acc.transport.allReduceSum(grads, 0.5));
      out.reduceCpuS = cpuSince(c) / 5;
      out.barrierS =
        (await median(3, async () => {
          for (let i = 0; i < 100; i++) await acc.transport.barrier();
        })) / 100;
    }
  }
  console.log(`DP_RESULT ${JSON.stringify(out)}`);
  await acc.endTraining();
  if (independent) {
    await defaultTransport().barrier();
    await defaultTransport().close();
  }
} else {
  if (getBackend().name !== "cpu")
    console.error("bench/accelerate: native cpu backend missing; numbers are js-backend");
  console.log(
    `model: ${L} layers, d ${C}, vocab ${V}, batch ${B}x${T}, ${STEPS} timed steps, backend ${getBackend().name}, ${availableParallelism()} cores`,
  );
  if (!args.includes("--skip-mp")) {
    // alternately (fp32, bf16, fp32, bf16), keeping each one's best, so both see the same load
    const best: Record<string, { s: number; cpuS: number }> = {};
    for (let round = 0; round < 2; round++) {
      for (const mp of ["no", "bf16"] as MixedPrecision[]) {
        const r = await run(new Accelerator({ mixedPrecision: mp }));
        const b = best[mp];
        best[mp] = b ? { s: Math.min(b.s, r.s), cpuS: Math.min(b.cpuS, r.cpuS) } : r;
      }
    }
    const fp32 = best.no as { s: number; cpuS: number };
    const bf16 = best.bf16 as { s: number; cpuS: number };
    console.log(
      `| mixed precision (best of 2, ${native?.numThreads() ?? 1} kernel threads) | s/step | tokens/s | CPU s/step |`,
    );
    console.log(
      `| fp32 (baseline) | ${fp32.s.toFixed(3)} | ${((B * T) / fp32.s).toFixed(0)} | ${fp32.cpuS.toFixed(3)} |`,
    );
    console.log(
      `| bf16            | ${bf16.s.toFixed(3)} | ${((B * T) / bf16.s).toFixed(0)} | ${bf16.cpuS.toFixed(3)} |`,
    );
    console.log(
      `bf16 speed-up over fp32: ${(fp32.s / bf16.s).toFixed(2)}x wall clock, ${(fp32.cpuS / bf16.cpuS).toFixed(2)}x CPU time (load average ${load()})`,
    );
  }
  if (!args.includes("--skip-dp")) await dataParallel(`the bench model (d ${C})`, L, C, true);
  if (!args.includes("--skip-dp") && !args.includes("--skip-cb"))
    await dataParallel("the compute-bound model", opt("cb-layers", 2), opt("cb-width", 1024), false);
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

type Result = Record<string, number>;

/** How one launch runs (see {@link dp}). */
interface LaunchPlan {
  processes: number;
  threads?: number;
  /** Batch of each process's run (with splitBatches, the global batch of a data-parallel run). */
  batch: number;
  zero?: boolean;
  /** Workers share nothing but a start barrier (the ceiling and the probes). */
  independent?: boolean;
  /** A kernel to probe instead of training. */
  probe?: string;
  barrier?: "pipes" | "ipc";
  io?: "mapped" | "files";
}

/** One launch of this script's workers on the model `model`; every worker's result, rank 0 first. */
async function dp(model: string[], plan: LaunchPlan): Promise<Result[]> {
  let text = "";
  const res = await launch({
    script: join(import.meta.dirname, "accelerate.ts"),
    args: [...model, "--batch", String(plan.batch)],
    numProcesses: plan.processes,
    env: {
      HEARTH_NUM_THREADS: String(plan.threads ?? 1),
      HEARTH_SHM_IO: plan.io ?? "mapped",
      HEARTH_BENCH_ZERO: plan.zero ? "1" : "0",
      HEARTH_BENCH_INDEPENDENT: plan.independent ? "1" : "0",
      HEARTH_BENCH_PROBE: plan.probe ?? "",
    },
    barrier: plan.barrier ?? "pipes",
    stdio: "pipe",
    onOutput: (_r, c) => {
      text += c;
    },
  });
  const ranks = [...text.matchAll(/DP_RESULT (\{.*\})/g)].map((m) => JSON.parse(m[1] as string) as Result);
  if (res.code !== 0 || ranks.length !== plan.processes)
    throw new Error(`bench/accelerate: launch ${JSON.stringify(plan)} failed: ${text}`);
  return ranks.sort((a, b) => (a.rank as number) - (b.rank as number));
}

/** The slowest rank's seconds per step (what a global step, or a pair of runs, waits for). */
function slowest(ranks: Result[]): number {
  return Math.max(...ranks.map((k) => k.s as number));
}

/**
 * The data-parallel table of one model (`layers`, `width`; vocabulary, sequence and steps as
 * the command line gives), against its ceiling on this host; with `transport`, the transport
 * micro-benchmark too.
 */
async function dataParallel(title: string, layers: number, width: number, transport: boolean): Promise<void> {
  const model = [
    ...["--layers", String(layers), "--width", String(width), "--vocab", String(V)],
    ...["--seq", String(T), "--steps", String(STEPS)],
  ];
  const half = DP_B / 2;
  // the configurations alternate, ROUNDS times, each keeping its fastest run, so that all see
  // the same load; the load average is printed after each run
  const configs = {
    one1: ["1 process x 1 thread (baseline)", { processes: 1, batch: DP_B }],
    two1: ["2 processes x 1 thread, all-reduce", { processes: 2, batch: DP_B }],
    zero: ["2 processes x 1 thread, ZeRO-1", { processes: 2, batch: DP_B, zero: true }],
    one2: ["1 process x 2 threads", { processes: 1, threads: 2, batch: DP_B }],
    alone: [`half batch (${half}x${T}) alone, 1 process x 1 thread`, { processes: 1, batch: half }],
    pair: ["ceiling: 2 independent half-batch runs at once", { processes: 2, batch: half, independent: true }],
  } as const satisfies Record<string, readonly [string, LaunchPlan]>;
  type Key = keyof typeof configs;
  const best: Partial<Record<Key, Result[]>> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [key, [name, plan]] of Object.entries(configs) as [Key, readonly [string, LaunchPlan]][]) {
      const r = await dp(model, plan);
      console.log(`  run ${round + 1}/${ROUNDS} ${name}: ${slowest(r).toFixed(3)} s/step (load average ${load()})`);
      const b = best[key];
      if (!b || slowest(r) < slowest(b)) best[key] = r;
    }
  }
  const get = (k: Key) => best[k] as Result[];
  const [one1, two1, zero, one2, alone, pair] = [
    get("one1"),
    get("two1"),
    get("zero"),
    get("one2"),
    get("alone"),
    get("pair"),
  ];
  const params = one1[0]?.params as number;
  console.log(
    `## data parallel, ${title}: ${layers} layers, d ${width}, vocab ${V}, ${(params / 1e6).toFixed(1)}M parameters (gradient ${((params * 4) / 1e6).toFixed(0)} MB), global batch ${DP_B}x${T}, best of ${ROUNDS}`,
  );
  const ms = (x: number | undefined) => ((x ?? 0) * 1000).toFixed(0);
  const base = slowest(one1);
  const row = (name: string, ranks: Result[], samples = DP_B) => {
    const r = ranks[0] as Result;
    const s = slowest(ranks);
    const comm = ranks
      .map((k) => `${ms(k.allReduceS)} (${ms((k.allReduceS as number) - (k.allReduceCpuS as number))})`)
      .join(" / ");
    const cpu = ranks.map((k) => (k.cpuS as number).toFixed(3)).join(" / ");
    const vs = samples === DP_B ? `${(base / s).toFixed(2)}x` : "";
    return `| ${name} | ${s.toFixed(3)} | ${(samples / s).toFixed(1)} | ${vs} | ${comm} | ${cpu} | ${ms(r.forward)} + ${ms(r.backward)} + ${ms(r.optimizer)} |`;
  };
  console.log(
    "| configuration | s/step | samples/s | vs 1 process x 1 thread | collectives ms/step (waiting) per rank | CPU s/step per rank | rank 0 CPU ms: forward + backward&sync + optimizer&gather |",
  );
  for (const [key, ranks] of [
    ["one1", one1],
    ["two1", two1],
    ["zero", zero],
    ["one2", one2],
    ["pair", pair],
  ] as const)
    console.log(row(configs[key][0], ranks));
  console.log(row(configs.alone[0], alone, half));
  // what running both cores costs each process, by phase (CPU time: the load of other jobs
  // shows in wall clock far more than in CPU time)
  const mean = (ranks: Result[], k: string) => ranks.reduce((a, r) => a + (r[k] as number), 0) / ranks.length;
  const slow = (k: string) => `${(mean(pair, k) / mean(alone, k)).toFixed(2)}x`;
  console.log(
    `per-process slowdown when both cores run (2 independent half-batch runs vs 1 alone): wall ${(slowest(pair) / slowest(alone)).toFixed(2)}x, CPU ${slow("cpuS")} (forward ${slow("forward")}, backward ${slow("backward")}, optimizer ${slow("optimizer")})`,
  );
  const ceiling = base / slowest(pair);
  console.log(
    `ceiling of 2-process data parallel on this host (1 process x 1 thread / 2 independent half-batch runs at once): ${ceiling.toFixed(2)}x (ideal 2x)`,
  );
  for (const [name, r] of [
    ["all-reduce", two1],
    ["ZeRO-1", zero],
  ] as const) {
    const cpu = Math.max(...r.map((k) => k.cpuS as number));
    console.log(
      `scaling, 2 processes x 1 thread (${name}) over 1 process x 1 thread: ${(base / slowest(r)).toFixed(2)}x wall clock = ${((100 * slowest(pair)) / slowest(r)).toFixed(0)}% of the ceiling (${ms(slowest(r) - slowest(pair))} ms a step above it), ${((one1[0]?.cpuS as number) / cpu).toFixed(2)}x per-process CPU time (busiest rank); over 1 process x 2 threads: ${(slowest(one2) / slowest(r)).toFixed(2)}x`,
    );
  }
  for (const [name, r] of [
    ["all-reduce", two1],
    ["ZeRO-1", zero],
  ] as const) {
    console.log(
      `${name}: the gradient sync alone (copy in, reduction, averaged gradients out${name === "ZeRO-1" ? ", parameter all-gather" : ""}), median of 5: ${r.map((k) => `${((k.syncS as number) * 1000).toFixed(1)} ms wall, ${((k.syncCpuS as number) * 1000).toFixed(1)} ms CPU`).join(" / ")} per rank`,
    );
  }
  // where waiting comes from: per step, how much longer one rank computed than the other
  for (const [name, r] of [
    ["all-reduce", two1],
    ["ZeRO-1", zero],
  ] as const) {
    const [a, b] = r.map((k) => k.busyS as unknown as number[]) as [number[], number[]];
    const diffs = a.map((x, j) => x - (b[j] as number));
    const meanDiff = diffs.reduce((acc, d) => acc + Math.abs(d), 0) / diffs.length;
    console.log(
      `${name}: per step, rank 0 computed ${diffs.map((d) => `${d > 0 ? "+" : ""}${(d * 1000).toFixed(0)}`).join(", ")} ms more than rank 1 (mean |difference| ${(meanDiff * 1000).toFixed(0)} ms: the slower rank's lead is the other's wait)`,
    );
  }
  // which kinds of work slow down when both cores run: one kernel alone, then two at once
  console.log("| contention probe, 1 thread | CPU ms a call, alone | both cores (per process) | slowdown |");
  const probes = [
    ["gemm", `GEMM [${DP_B / 2}·${T}, ${width}]x[${width}, ${4 * width}] (compute)`],
    ["add", `add over ${(params / 1e6).toFixed(1)}M floats (memory streaming)`],
    ["adamw", `AdamW over ${(params / 1e6).toFixed(1)}M parameters`],
  ] as const;
  for (const [kind, name] of probes) {
    const a = (await dp(model, { processes: 1, batch: half, probe: kind }))[0]?.cpuMs as number;
    const both = await dp(model, { processes: 2, batch: half, probe: kind, independent: true });
    const p = mean(both, "cpuMs");
    console.log(`| ${name} | ${a.toFixed(1)} | ${p.toFixed(1)} | ${(p / a).toFixed(2)}x |`);
  }
  console.log(`(load average at the end ${load()})`);
  if (!transport) return;
  const two1r = two1[0] as Result;
  const ipc = (await dp(model, { processes: 2, batch: DP_B, barrier: "ipc" }))[0] as Result;
  const files = (await dp(model, { processes: 2, batch: DP_B, io: "files" }))[0] as Result;
  const gbs = (r: Result) => ((r.gradMB as number) / 1e3 / (r.reduceS as number)).toFixed(2);
  console.log("| transport (2 processes) | all-reduce of the gradient | CPU ms | GB/s | barrier µs |");
  console.log(
    `| mapped, named-pipe barrier | ${((two1r.reduceS as number) * 1000).toFixed(1)} ms for ${(two1r.gradMB as number).toFixed(1)} MB | ${ms(two1r.reduceCpuS)} | ${gbs(two1r)} | ${((two1r.barrierS as number) * 1e6).toFixed(0)} |`,
  );
  for (const [name, r] of [
    ["mapped, IPC barrier (fallback)", ipc],
    ["files (pread/pwrite), named pipes", files],
  ] as const) {
    console.log(
      `| ${name} | ${((r.reduceS as number) * 1000).toFixed(1)} ms | ${ms(r.reduceCpuS)} | ${gbs(r)} | ${((r.barrierS as number) * 1e6).toFixed(0)} |`,
    );
  }
}
