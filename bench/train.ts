/**
 * Training-step speed on a GPT-2-small-shaped model (n_embd 768, 12 heads, vocab 50,257, tied
 * head; `--layers` of them, default 12 = 124M parameters), batch 4 × 128 tokens:
 *
 *   full   forward + backward + AdamW on every parameter
 *   lora   forward + backward + AdamW on LoRA r = 8 adapters of attn.c_attn (base frozen)
 *
 * Median step time over `--steps` steps after one warm-up step, and the growth of resident
 * memory across them. Peer in the same run: PyTorch CPU with the same shapes
 * (bench/peers/gpt2_train_torch.py, Debian `python3-torch`, run by /usr/bin/python3 when that
 * is the python that has torch, with OpenBLAS on the CPU's newest kernel), skipped with a
 * message when torch is absent.
 * `--rss-steps N` then runs N more steps per mode (no timing) and prints the resident memory
 * at their start and end and its peak (the "memory must not grow" check), and as they run, a
 * row every 50 steps: the resident set, the JavaScript heap in use and committed,
 * `liveStorages()`, `packedWeightBytes()`, the native allocator's live and cached blocks
 * (`allocatorStats()`) and the C heap's used and free bytes (`mallocStats()`), so that a plateau
 * can be told from a leak and a leak placed; `--modes full` or
 * `--modes lora` runs one mode; `--no-peer` skips PyTorch. `--bf16` also times each mode under
 * bf16 autocast (matmuls in bfloat16 with float32 accumulation, float32 master weights) and
 * prints its row beside the float32 one with the speed-up.
 * With `HEARTH_PROFILE=1` (or `=shapes`, rows split by input shapes) each mode prints the op
 * profile of its timed steps (the warm-up step and model building left out), per step.
 *
 * `--gemm NAME` forces a GEMM family for the whole run (`amx-bf16x3`: float32 products on AMX
 * tiles by bf16x3 splitting, `avx512`: FMAs; see packages/tensor/native/README.md).
 * `--gemm A,B` alternates families inside each round (A, B, then the peer) and prints each one's
 * best round: an A/B of two kernels under the same load. `HEARTH_GEMM_PAIR=A,B` goes further:
 * every product of the timed steps runs under both families back to back (the step then takes
 * both families' time; --gemm is overridden), and each mode prints the two families' times per
 * product shape: on this shared VM, whose speed drifts 2-3× over seconds, the comparison that
 * held up (packages/tensor/src/backends/cpu/gemm-pair.ts). An entry may carry the GEMM's
 * environment switches for its own runs (`HEARTH_GEMM_PAIR='avx512;avx512:HEARTH_GEMM_FINE=0'`),
 * pairing two ways of cutting the same family's products.
 *
 * `--rounds N` times each mode N times, alternating with the peer (ours, torch, ours, torch),
 * prints every round and then each side's best round (a shared machine's load moves both).
 * The step's process CPU time (both threads) is printed beside its wall time.
 *
 * Where a LoRA step's time goes (session 9, 12 layers, `perf record -e cpu-clock` over timed
 * steps, load ~1.7): the GEMM micro-kernel 71% of the process CPU, GEMM packing 7%, idle pool
 * workers spinning or yielding ~6%, attention ~4.6%, cross-entropy 1.7%, GELU 1.2%, the rest
 * under 1% each; JavaScript and dispatch ~8 ms a step (a 12-layer step at n_embd 64). Minor
 * page faults ~300-1,900 a step (the allocator recycles blocks), system time 35-80 ms. Every
 * product run twice back to back inside steps (HEARTH_GEMM_PAIR with one family twice) was only
 * 3% faster the second time, hot: the in-step product rates (215-280 GF/s quiet) are what the
 * products get alone (bimodal here, ~245 or ~300 GF/s, with the host's state), not a penalty
 * of the step. Measured and not kept: the tied 50257×768 head packed once across steps (slower
 * in 8 of 8 steps alternating in one process), a shared packed A for the 2-task 768-wide
 * products (no gain, paired), bf16x3 AMX (876 ms to 2.1 s a LoRA step from round to round).
 * Not the AMX tile state either (session 10, load 2.4-4): with the tiles kept configured for
 * the thread's life, bf16x3 LoRA steps took 935 ms-2.7 s, with them released after every GEMM
 * task 891 ms-1.9 s, FMAs 1.0-1.5 s; system time 0-270 ms a step in all three, FMAs included.
 *
 * The two-thread gap (session 10, load 1.3-2.5): the pool's counters over LoRA steps put 54-84
 * ms a step outside pooled jobs, and the caller waiting for the worker 62-245 ms a step inside
 * them, nearly all in the products cut into one task per thread (512×768 outputs: the output
 * projections, c_fc's and c_attn's input gradients, the head's input gradient), which spent
 * 15-20% of their time with one core idle; the worker finished late about 2.5× as often as
 * early. The cause is the host: one product back to back on 2 threads, alone, takes 8 ms with
 * the halves even, then 10-11 ms for seconds at a time with the worker's half 30% slower; two
 * one-thread copies of a product run at once took 17.5 and 26 ms on the two cores. Cutting those
 * products finer did not pay: paired inside steps, 128-column tasks over a shared packed A took
 * 1.01-1.05× the time, 64- or 128-row tasks over a shared packed B 1.06-1.20×; alternating
 * alone, fine cuts win while the cores differ and lose 5-14% while they do not. Kept instead
 * (packages/tensor/native/kernels/gemm.cpp): such products are cut unevenly, the caller's share
 * following the two threads' speeds on the previous one (run_pair); products at least 8192 deep
 * are cut along k into 8 chunks handed out dynamically (run_split_k: the head's input gradient
 * packs its 103 MB A once, not in both tasks). Paired inside steps against the old cuts
 * (HEARTH_GEMM_PAIR='avx512;avx512:HEARTH_GEMM_SPLIT_K=0,HEARTH_GEMM_BALANCE=0', 4 steps, load
 * 2.0-2.2): all products 1.027× the time under the old cuts in full fine-tuning (the head's input
 * gradient 1.12×), 1.007× in LoRA (a stretch with both cores even, 2-task products at ~290
 * GF/s); the head's input gradient alone, alternating: mean 205 against 230 ms. Whole steps
 * alternated in one process stay within their ±15% noise. Also k-cut products 3072 deep: 5-10%
 * slower (the partials' traffic), not kept. Attention runs at ~41 GF/s on one thread (softmax
 * and bookkeeping ~38% of it) and is ~5% of a LoRA step: left as it is.
 * The peer's settings, checked the same session (LoRA, 3 steps, load 2-3): OMP_WAIT_POLICY
 * PASSIVE 2.5-2.8 s a step, unset 4.6 s, ACTIVE 13.3 s; 1 thread as fast as 2 (OpenBLAS's own
 * threads use both cores either way). PASSIVE with 2 threads, as run here, is its best.
 *
 * The LoRA step on the AVX2-only AMD EPYC host (session 12, load 1.7-3.6): 253 GFLOP, all of
 * it products that cannot be left out (forward 126.5: 12 × 7.25 in the layers and 39.5 for the
 * tied head; backward the input gradients only, the same less layer 0's c_attn, whose input
 * needs none; no weight gradient but the adapters'). The products run at 116-143 GF/s in the
 * step on both threads (one core's FMA peak, measured with a register-only loop, is 99 GF/s),
 * so the step's floor at that rate is ~1.83 s, against 1.9-2.1 s a quiet step: the rest is
 * attention ~80 ms, GELU ~28, cross-entropy ~25, layer norms ~11, gradient adds ~7, dispatch
 * ~40 (under the profiler) and the adapters' skinny products ~22 ms (after the update became
 * the base product's residual, packages/peft/src/lora/layers.ts: 11-14 -> 5-8 ms a step). `perf record -e cpu-clock` over timed steps: the
 * GEMM micro-kernel 76% of the process CPU, B packing 3.6%, A packing (memmove) 2.7%, idle
 * workers ~3%. 0.6× torch's 2.78-2.88 s (1.67-1.73 s) is below that floor: it needs faster
 * products, not less work. Measured and not kept: the frozen base weights kept pre-packed
 * across steps (packed-weights.ts's packing, forward and input-gradient layouts): each product
 * run both ways back to back inside 4 steps (load ~1.8), the layers' products 0.94-1.01× the
 * time (0.979× summed), the head's forward 1.14×, all 1.002×, for +920 MiB resident.
 * Session 17 (load 1.7-3.6): every product shape of a LoRA step ran at 105-137 GF/s on 2
 * threads, none far below the others, and alone at 0.96-0.98× OpenBLAS's time (bench gemm);
 * the head's and cross-entropy's 103 MB logits traffic is ~1% of the step (cross-entropy 21 ms
 * forward and backward, attention 70, GELU 24). Kept: tall tasks take the B-panel-outer order in
 * bands of 16 A panels (gemm.cpp kTallBandPanels), paired in steps 0.965-0.989× the products'
 * time in LoRA, 0.971-0.994× in full fine-tuning.
 * Session 18, full fine-tuning by phase (load 1.5-2): forward ~0.95-1.1 s, backward ~1.9-2.1 s,
 * opt.step() ~250 ms (AdamW over 124M parameters, bound by its kernel's dependent chains, not by
 * memory: 1.6 ns an element in cache, 2.0 streaming); kept: the AVX2 update in three passes per
 * block, ~175 ms. In the step the layers' forward products run at 103-115 GF/s (2 threads) and
 * the same shapes alone, cold operands and outputs or warm, at ~150; the backward products
 * reach 135-150 in the step (cause not found: not page faults, huge-page faults or steal time).
 * Measured and not kept: prefetching a column-major A's source lines 32 k ahead while packing
 * (the weight gradients' packing share unchanged, 7-13%).
 * Session 19 (LoRA, load 1.6-2.4): the "alone" rate does not hold under sustained load on this
 * host: the same 512x3072x768 product back to back (2 threads, 12 weights cycled, a C++ harness
 * over the real driver) ran at 90-168 GF/s from one run to the next within minutes, and the
 * micro-kernel's tight loop at 80-98 GF/s a core; the step's products, paired, meet the same
 * conditions. Kept: a row-major float32 A read in place by the avx2 micro-kernel instead of
 * packed (gemm.cpp a_in_place: packing A had been 1-6% of each product, and c_fc's forward packed
 * its whole A in each of its 8 tasks): paired inside steps, all products 0.98× the time (full
 * fine-tuning 0.99×). Not kept: half-size B blocks for tall tasks reading A in place (so that the
 * next block's source is prefetched from inside the micro-kernel): paired 0.93-1.06× by shape,
 * 1.00× in sum.
 *
 * Run: npm run bench -- train [--layers 12] [--batch 4] [--seq 128] [--steps 3] [--threads 2]
 *        [--rss-steps 0] [--modes full,lora] [--rounds 1] [--no-peer] [--bf16] [--gemm NAME[,NAME]]
 * On the js reference backend a 124M step takes many minutes; `--layers 1 --seq 32` gives a
 * quick look (the ratio to torch is then for that shape).
 */
import { spawnSync } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getPeftModel, LoraConfig } from "../packages/peft/src/index.ts";
import {
  AdamW,
  autocast,
  copy_,
  gemmPairReport,
  gemmPairReset,
  getBackend,
  liveStorages,
  manualSeed,
  noGrad,
  PROFILING,
  packedWeightBytes,
  profileReport,
  profileReset,
  randint,
  randn,
  scope,
  type Tensor,
} from "../packages/tensor/src/index.ts";
import { allocatorStats, mallocStats, native, residentBytes } from "../packages/tensor/src/native/index.ts";
import { GPT2Config, GPT2LMHeadModel } from "../packages/transformers/src/index.ts";
import { bestCoreType, torchPython } from "./peers/python.ts";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "12" },
    batch: { type: "string", default: "4" },
    seq: { type: "string", default: "128" },
    steps: { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
    "rss-steps": { type: "string", default: "0" },
    rounds: { type: "string", default: "1" },
    modes: { type: "string", default: "full,lora" },
    "no-peer": { type: "boolean", default: false },
    bf16: { type: "boolean", default: false },
    gemm: { type: "string", default: "" },
  },
});
const L = Number(values.layers);
const B = Number(values.batch);
const T = Number(values.seq);
const STEPS = Number(values.steps);
const RSS_STEPS = Number(values["rss-steps"]);
const ROUNDS = Number(values.rounds);
const MODES = (values.modes as string).split(",") as ("full" | "lora")[];
const MiB = 2 ** 20;
/** GEMM families to alternate (`--gemm A,B`); [""] keeps the automatic choice. */
const GEMMS = values.gemm ? (values.gemm as string).split(",") : [""];
for (const g of GEMMS) if (g && !native?.selectGemmKernel(g)) throw new Error(`--gemm ${g}: not available here`);
const selectGemm = (g: string) => {
  if (g) native?.selectGemmKernel(g);
};
selectGemm(GEMMS[0] as string);

function build(): GPT2LMHeadModel {
  manualSeed(0);
  const m = new GPT2LMHeadModel(new GPT2Config({ n_layer: L, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }));
  noGrad(() =>
    scope(() => {
      for (const [, p] of m.namedParameters()) if (p.ndim === 2) copy_(p, randn([...p.shape], { std: 0.02 }));
    }),
  );
  return m.train();
}

interface Result {
  ms: number;
  /** Median process CPU time of a step (both threads): steadier than wall time under load. */
  cpuMs: number;
  rssGrowthMiB: number;
  trainable: number;
  loss: number;
  rss?: { start: number; end: number; peak: number };
}

function time(mode: "full" | "lora", low: "bfloat16" | null, rssSteps: number): Result {
  const base = build();
  const model =
    mode === "full"
      ? base
      : getPeftModel(base, new LoraConfig({ r: 8, loraAlpha: 16, targetModules: ["attn.c_attn"] }));
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr: 1e-4 });
  const ids = randint(0, 50257, [B, T], { dtype: "int64" });
  const step = () =>
    scope(() => {
      const { loss } = autocast(low, () => model.forward({ inputIds: ids, labels: ids })) as { loss: Tensor };
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let rss0 = 0;
  let loss = 0;
  for (let s = 0; s <= STEPS; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    loss = step();
    const cpu = process.cpuUsage(c0);
    if (s === 0) {
      rss0 = residentBytes();
      profileReset();
      gemmPairReset();
    } else {
      times.push(performance.now() - t0);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  if (PROFILING) {
    const mean = times.reduce((s, t) => s + t, 0) / times.length;
    console.log(
      `${mode}${low ? ` ${low}` : ""}: op profile per step (mean of ${STEPS} timed steps, ${mean.toFixed(0)} ms a step)`,
    );
    console.log(profileReport(STEPS));
    profileReset();
  }
  const paired = gemmPairReport();
  if (paired) {
    console.log(`${mode}: ${paired}`);
    gemmPairReset();
  }
  times.sort((a, b) => a - b);
  cpuTimes.sort((a, b) => a - b);
  const result: Result = {
    ms: times[Math.floor(times.length / 2)] as number,
    cpuMs: cpuTimes[Math.floor(cpuTimes.length / 2)] as number,
    rssGrowthMiB: (residentBytes() - rss0) / MiB,
    trainable: params.reduce((s, p) => s + p.size, 0),
    loss,
  };
  if (rssSteps > 0) {
    console.log(`${mode}: memory every ${RSS_EVERY} of ${rssSteps} more steps (MiB but storages)`);
    console.log(MEMORY_HEADER);
    const start = residentBytes();
    let peak = start;
    console.log(memoryRow(0));
    for (let s = 1; s <= rssSteps; s++) {
      loss = step();
      peak = Math.max(peak, residentBytes());
      if (s % RSS_EVERY === 0 || s === rssSteps) console.log(memoryRow(s));
    }
    result.rss = { start: start / MiB, end: residentBytes() / MiB, peak: peak / MiB };
    result.loss = loss;
  }
  return result;
}

/** Steps between the rows of the `--rss-steps` series. */
const RSS_EVERY = 50;
const MEMORY_HEADER =
  "        step      rss  js heap  js total  storages   packed  alloc live   cached  malloc used   free";
/**
 * One row of the `--rss-steps` series: the resident set beside what holds it, so that a plateau
 * can be told from a leak and a leak placed: the JavaScript heap in use and as committed by V8
 * (the used part swings by tens of MiB between collections), live tensor storages, pre-packed
 * weights, the native allocator's blocks held by tensors and kept in its reuse cache, and the C
 * heap (glibc's bytes in use, the allocator's blocks under 2 MiB among them, and free inside its
 * arenas: fragmentation). The resident set minus those is the rest of the process (code, V8's
 * other spaces).
 * Under `NODE_OPTIONS=--expose-gc` each row is taken after a full collection: the js heap is
 * then what the process retains, not what it has not collected yet.
 */
function memoryRow(step: number): string {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const a = allocatorStats();
  const c = mallocStats();
  const mib = (bytes: number, w: number) => (bytes / MiB).toFixed(1).padStart(w);
  return (
    `${String(step).padStart(12)} ${mib(residentBytes(), 8)} ${mib(m.heapUsed, 8)} ${mib(m.heapTotal, 9)}` +
    ` ${String(liveStorages()).padStart(9)} ${mib(packedWeightBytes(), 8)}` +
    (a ? ` ${mib(a.liveBytes, 11)} ${mib(a.cachedBytes, 8)}` : "") +
    (c ? ` ${mib(c.inUseBytes + c.mappedBytes, 12)} ${mib(c.freeBytes, 6)}` : "")
  );
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
console.log(
  `GPT-2 shape: ${L} layers, n_embd 768, vocab 50257; batch ${B} × ${T}; backend ${getBackend().name}` +
    (native ? ` (float32 GEMM ${native.gemmKernel("float32")})` : "") +
    `; ${STEPS} timed steps; load average ${load()} on ${availableParallelism()} cores`,
);
/**
 * The peer's environment: OpenBLAS (Debian's torch calls it for every matmul) on the newest
 * kernel this CPU supports, as bench/gemm does — its autodetection picks the pre-AVX2
 * "Prescott" kernel on this VM, 5x slower — and without this environment's OPENBLAS_L2_SIZE.
 */
function torchEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, OMP_WAIT_POLICY: "PASSIVE" };
  delete env.OPENBLAS_L2_SIZE;
  const core = bestCoreType();
  if (core) env.OPENBLAS_CORETYPE = core;
  else delete env.OPENBLAS_CORETYPE;
  return env;
}

const python = values["no-peer"] ? undefined : torchPython();
if (values["no-peer"]) console.log("PyTorch peer skipped (--no-peer)");
else if (!python) console.log("PyTorch peer skipped: no python3 can import torch (install Debian python3-torch)");

/** PyTorch's median step (wall and CPU ms) for `mode`, or null when it is skipped or fails. */
function peer(mode: "full" | "lora"): { ms: number; cpuMs: number } | null {
  if (!python) return null;
  const args = [String(L), String(B), String(T), String(STEPS), values.threads as string, mode];
  const run = spawnSync(python, [join(import.meta.dirname, "peers/gpt2_train_torch.py"), ...args], {
    encoding: "utf8",
    env: torchEnv(),
  });
  if (run.status !== 0) {
    console.log(`PyTorch peer failed: ${(run.stderr || run.error?.message || "").trim().split("\n").at(-1)}`);
    return null;
  }
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1) as string);
  return { ms: out[`${mode}_ms`], cpuMs: out[`${mode}_cpu_ms`] };
}

// Rounds alternate the sides (ours under each GEMM family, then torch ...) so that a change in
// the machine's load hits all of them; the summary takes each side's best round.
type Key = `${"full" | "lora"}${string}`;
const key = (mode: "full" | "lora", g: string): Key => `${mode}${g ? ` ${g}` : ""}`;
const ours: Partial<Record<Key, Result>> = {};
const torch: Partial<Record<"full" | "lora", { ms: number; cpuMs: number }>> = {};
for (const mode of MODES) {
  for (let r = 0; r < ROUNDS; r++) {
    const row: string[] = [];
    for (const g of GEMMS) {
      selectGemm(g);
      const o = time(mode, null, r === 0 && g === GEMMS[0] ? RSS_STEPS : 0);
      row.push(`hearth${g ? ` ${g}` : ""} ${o.ms.toFixed(0)} ms (cpu ${o.cpuMs.toFixed(0)})`);
      const best = ours[key(mode, g)];
      if (!best || o.ms < best.ms) ours[key(mode, g)] = best?.rss ? { ...o, rss: best.rss } : o;
    }
    selectGemm(GEMMS[0] as string);
    const t = peer(mode);
    if (t) row.push(`torch ${t.ms.toFixed(0)} ms (cpu ${t.cpuMs.toFixed(0)})`);
    if (ROUNDS > 1 || GEMMS.length > 1)
      console.log(`${mode.padEnd(4)}  round ${r + 1}: ${row.join(", ")}, load ${load()}`);
    const tb = torch[mode];
    if (t && (!tb || t.ms < tb.ms)) torch[mode] = t;
  }
}
const bf16: Partial<Record<"full" | "lora", Result>> = {};
if (values.bf16) for (const mode of MODES) bf16[mode] = time(mode, "bfloat16", 0);
for (const mode of MODES) {
  for (const g of GEMMS) {
    const o = ours[key(mode, g)] as Result;
    const t = torch[mode];
    console.log(
      `${mode.padEnd(4)}  hearth${g ? ` ${g}` : ""} ${o.ms.toFixed(0).padStart(8)} ms/step  (cpu ${o.cpuMs.toFixed(0)} ms, ${o.trainable.toLocaleString("en-US")} trainable, loss ${o.loss.toFixed(3)}, rss +${o.rssGrowthMiB.toFixed(1)} MiB over ${STEPS} steps)` +
        (t
          ? `   torch ${t.ms.toFixed(0).padStart(7)} ms/step (cpu ${t.cpuMs.toFixed(0)} ms)   ratio ${(o.ms / t.ms).toFixed(2)}×`
          : ""),
    );
    if (o.rss) {
      console.log(
        `      rss over ${RSS_STEPS} more steps: ${o.rss.start.toFixed(0)} MiB -> ${o.rss.end.toFixed(0)} MiB (peak ${o.rss.peak.toFixed(0)} MiB, growth ${(o.rss.end - o.rss.start).toFixed(1)} MiB)`,
      );
    }
  }
  const b = bf16[mode];
  if (b) {
    const o = ours[key(mode, GEMMS[0] as string)] as Result;
    console.log(
      `${mode.padEnd(4)}  bf16   ${b.ms.toFixed(0).padStart(8)} ms/step  (autocast, loss ${b.loss.toFixed(3)}, rss +${b.rssGrowthMiB.toFixed(1)} MiB)   speed-up over float32 ${(o.ms / b.ms).toFixed(2)}×`,
    );
  }
}
console.log(`load average after the run: ${load()} (the machine's cores may be shared; figures are noisy)`);
