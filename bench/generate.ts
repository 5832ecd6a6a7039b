/**
 * Generation speed on a GPT-2-small-shaped checkpoint (124M parameters, random weights written
 * to a temp folder as model.safetensors, so every engine reads the same file):
 *
 *   prefill   latency of one forward pass over a 128-token prompt, the work generate() does
 *             before its first token: the last position's logits only (`logitsToKeep: 1`, not a
 *             128×50257 head) and the prompt's keys and values written into a KV cache. The
 *             peers do the same work: their plain GPT-2 (bench/peers/gpt2_plain.py) returns the
 *             last position's logits and the present keys and values
 *   decode    tokens/s of greedy decoding with the KV cache, batch 1 and batch 8
 *             (= batch · new tokens / (time of prompt + N tokens − time of prompt + 1 token)),
 *             after an untimed warm-up that every engine gets alike (below)
 *   weights   one batch-1 pass over every matrix a step multiplies with and nothing else, in the
 *             native kernels alone (the memory-bound floor of a step: its GB/s) and through the
 *             layers' ops (matmul and bias add), printed beside the step time so the rest
 *             (op dispatch, norms, attention) shows as the differences
 *   ceiling   the read bandwidth of this moment: our native probe (`streamRead`, on the thread
 *             pool) streams a buffer the size of those weights between the decode runs; weight
 *             bytes / its best GB/s bounds batch-1 decode, and decode is printed as a % of it;
 *             the batch-1 and batch-8 steps are split into the time inside the matrix products
 *             and outside
 *
 * Peers, measured in the same run on the same weights, each at its best thread setting: every
 * peer runs at each intra-op thread count of --threads (default 1, 2, 4, … up to the cores, the
 * counts alternating run by run), and each measure reports the best count's figure, naming it.
 * Hearth uses its thread pool as configured (all cores, or HEARTH_NUM_THREADS), printed too.
 *   - PyTorch CPU: bench/peers/gpt2_torch.py, a plain-torch GPT-2 (Debian `python3-torch`;
 *     `OMP_WAIT_POLICY=PASSIVE`). Skipped with a message when torch is absent.
 *   - onnxruntime-node (what transformers.js runs on): the same plain-torch GPT-2 exported to
 *     ONNX (bench/peers/gpt2_onnx_export.py, needs torch), run through onnxruntime-node installed
 *     on demand into bench/.peers with its install script blocked (`--ignore-scripts`, which is
 *     what ONNXRUNTIME_NODE_INSTALL=skip is for: the CPU binaries ship in the npm package).
 *     Skipped with a message when torch is absent. Our prefill is also timed alternating with
 *     this peer's prefill runs and printed (not in the table: onnxruntime's idle pool threads
 *     spin beside ours then). Session 17's first run printed 187 ms there against 216 alone, when
 *     the alternating runs came after the decode runs and the table's straight after the first
 *     prefill: ~8 ms of that was our JavaScript and page faults warming up (see warm-up), the
 *     rest this host's noise (the same comparison in one process: 0.9-1.1x either way).
 *
 * Warm-up, the same for every engine: one untimed prefill pass first (onnxruntime packs its
 * weights when its session loads; ours packs the products that follow on it), and before the
 * decode runs of each batch size one untimed greedy generation of --warmup new tokens (default
 * 128) from that batch's prompts, per engine and, for the peers, per thread count. Every engine
 * times its prefill runs after its decode runs, so on that warm-up too. A JIT engine reaches its
 * steady speed only after its code has run a while: measured on one process, our batch-1 step
 * took ~35 ms for the first ~30 tokens and ~26 ms after ~100 (V8 compiling the op code, the first
 * 100 tokens of a tiny 12-layer model 9.9 ms/token against 1.9 warm), so 3 timed runs of 17
 * tokens straight after the prefill measured mostly that; and a prefill timed straight after the
 * first one spent ~19 ms of its calling thread in JavaScript and V8 (the pool's worker idle
 * meanwhile) and ~3 ms in the kernel (page faults of memory the process had not yet reused),
 * against ~12.5 and ~1 ms after the decode runs (perf samples by phase, 12 layers, session 17),
 * while 30 more prefill passes alone brought the JavaScript only to ~16 ms: ops called 12 times
 * a pass tier up slowly. `--warmup 0` times from cold.
 *
 * Run: npm run bench -- generate [--prompt 128] [--new 16] [--runs 3] [--layers 12] [--threads 1,2] [--warmup 128]
 *      [--skip-peers] [--dtype float32|bfloat16]   (bfloat16: our matmul weights stored in bf16, activations
 *      float32 — `fromPretrained(dir, { weightsDtype: "bfloat16" })`; the peer stays float32)
 * The js reference backend is slow on 124M parameters; `--layers 2` gives a quick look.
 * With HEARTH_PROFILE=1 it also takes a batch-1 and a batch-8 decoding step apart (products, pool waits, other
 * kernels, allocation, dispatch, views, the JavaScript outside ops: see `stepBreakdown`) and
 * prints the op profile at exit.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  getBackend,
  manualSeed,
  noGrad,
  PROFILING,
  profileReset,
  profileTotals,
  randint,
  randn,
  scope,
  type Tensor,
  tensor,
  to,
} from "../packages/tensor/src/index.ts";
import { native } from "../packages/tensor/src/native/index.ts";
import { Conv1D, GPT2Config, GPT2LMHeadModel, KVCache, TiedLinear } from "../packages/transformers/src/index.ts";
import { torchPython } from "./peers/python.ts";

const { values } = parseArgs({
  options: {
    prompt: { type: "string", default: "128" },
    new: { type: "string", default: "16" },
    runs: { type: "string", default: "3" },
    layers: { type: "string", default: "12" },
    threads: { type: "string" },
    warmup: { type: "string", default: "128" },
    dtype: { type: "string", default: "float32" },
    "skip-peers": { type: "boolean", default: false },
  },
});
const PROMPT = Number(values.prompt);
const NEW = Number(values.new);
const RUNS = Number(values.runs);
const LAYERS = Number(values.layers);
/** New tokens of the untimed greedy generation each engine runs before its decode runs, per batch size. */
const WARMUP = Number(values.warmup);
/** The peers' intra-op thread counts: --threads (one count or a list), else 1, 2, 4, … and the cores. */
const PEER_THREADS = values.threads
  ? values.threads.split(",").map(Number)
  : [...new Set([...[1, 2, 4, 8, 16, 32, 64].filter((t) => t < cpus().length), cpus().length])];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function time(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "hearth-bench-generate-"));
  try {
    manualSeed(0);
    const config = new GPT2Config({ n_layer: LAYERS });
    console.log(`building GPT-2-small-shaped model (${LAYERS} layers) with random weights…`);
    await new GPT2LMHeadModel(config).savePretrained(dir);
    const dtype = values.dtype as "float32" | "bfloat16";
    const model = await GPT2LMHeadModel.fromPretrained(dir, dtype === "float32" ? {} : { weightsDtype: dtype });
    const params = model.parameters().reduce((n, p) => n + p.size, 0);
    const weights = dtype === "float32" ? "float32" : `${dtype} matmul weights, float32 activations`;
    console.log(`checkpoint: ${(params / 1e6).toFixed(1)}M parameters, ${weights}, backend '${getBackend().name}'`);
    const load = loadavg().map((l) => l.toFixed(2));
    console.log(
      `load average ${load.join(" ")} on ${cpus().length} cores (figures swing with it: compare within one run)`,
    );
    console.log(
      `threads: hearth ${native ? native.numThreads() : 1}; peers at ${PEER_THREADS.join(", ")}, each measure at the best (shown in parentheses)`,
    );
    const pass = weightPass(model);
    const gbs = (ms: number) => `${(pass.bytes / 1e6).toFixed(0)} MB at ${(pass.bytes / ms / 1e6).toFixed(1)} GB/s`;
    if (pass.kernelsMs !== null) {
      console.log(
        `matmul weights alone at batch 1: ${pass.kernelsMs.toFixed(1)} ms per token in the kernels (${gbs(pass.kernelsMs)}), ${pass.modulesMs.toFixed(1)} ms through the layers' ops (${gbs(pass.modulesMs)}); a decoding step adds everything else\n`,
      );
    } else {
      console.log(
        `matmul weights alone at batch 1: ${pass.modulesMs.toFixed(1)} ms per token through the layers' ops (${gbs(pass.modulesMs)}); a decoding step adds everything else\n`,
      );
    }

    const probe = bandwidthProbe(pass.bytes);
    const ids = (b: number, n: number) => randint(0, config.vocab_size, [b, n], { dtype: "int64" });
    const prompt = ids(1, PROMPT);
    // One scope per pass, as generate() steps do: the pass's buffers go back to the allocator's
    // cache for the next one instead of waiting for the garbage collector. A fresh KV cache per
    // pass, sized as generate() sizes it for one new token.
    const prefillPass = () => {
      const cache = new KVCache({ capacity: PROMPT + 1 });
      noGrad(() =>
        scope(() => model.forward({ inputIds: prompt, pastKeyValues: cache, logitsToKeep: 1 }).logits.dataSync()),
      );
      cache.dispose();
    };
    // One untimed pass first, as every peer gets (onnxruntime pre-packs its weights when its
    // session loads): ours packs the weights of the products that follow on it.
    prefillPass();
    const ours: Figures = { prefill_ms: 0, decode_b1_tok_s: 0, decode_b8_tok_s: 0 };
    const products = timeProducts();
    // ms per step inside the matrix products, per batch size
    const inProducts = new Map<number, number[]>([
      [1, []],
      [8, []],
    ]);
    for (const B of [1, 8]) {
      const p = ids(B, 16);
      if (WARMUP > 0) await model.generate(p, { maxNewTokens: WARMUP, minNewTokens: WARMUP });
      const one = [];
      const many = [];
      for (let r = 0; r < RUNS; r++) {
        probe?.measure(); // between the decode runs, so it sees the machine as they do
        const g0 = products?.ms() ?? 0;
        one.push(await time(() => model.generate(p, { maxNewTokens: 1, minNewTokens: 1 })));
        const g1 = products?.ms() ?? 0;
        many.push(await time(() => model.generate(p, { maxNewTokens: NEW + 1, minNewTokens: NEW + 1 })));
        const g2 = products?.ms() ?? 0;
        inProducts.get(B)?.push((g2 - g1 - (g1 - g0)) / NEW);
      }
      ours[B === 1 ? "decode_b1_tok_s" : "decode_b8_tok_s"] = (B * NEW) / ((median(many) - median(one)) / 1000);
    }
    if (PROFILING && products) for (const B of [1, 8]) await stepBreakdown(model, ids(B, 16), products);
    products?.restore();
    // The prefill runs after the decode runs, warm as the peers' (see the header's warm-up).
    const prefill = [];
    for (let r = 0; r < RUNS; r++) prefill.push(await time(prefillPass));
    ours.prefill_ms = median(prefill);
    const step = 1000 / ours.decode_b1_tok_s;
    const inside = products ? median(inProducts.get(1) ?? []) : null;
    console.log(
      `decode batch 1: ${step.toFixed(1)} ms per token${inside === null ? "" : `, ${inside.toFixed(1)} ms of it inside the matrix products and ${(step - inside).toFixed(1)} outside them (the other ops and the JavaScript between)`}; the weight pass alone: ${(pass.kernelsMs ?? pass.modulesMs).toFixed(1)} ms in the kernels, ${pass.modulesMs.toFixed(1)} ms through the ops`,
    );
    if (products) {
      const step8 = 8000 / ours.decode_b8_tok_s;
      const inside8 = median(inProducts.get(8) ?? []);
      console.log(
        `decode batch 8: ${step8.toFixed(1)} ms per step of 8 tokens, ${inside8.toFixed(1)} ms of it inside the matrix products and ${(step8 - inside8).toFixed(1)} outside them`,
      );
    }
    if (probe) {
      // The ceiling counts only the matrices a step must stream (what `weightPass` multiplies
      // with); biases, norms, embeddings rows, the KV cache and activations come on top.
      // On a shared machine a reading can land in a busy moment: the ceiling takes the best
      // bandwidth seen, the probe's or the weight pass's own.
      const [V, E] = model.lm_head.weight.shape as [number, number];
      const passGbs = pass.kernelsMs === null ? 0 : pass.bytes / pass.kernelsMs / 1e6;
      const gbs = Math.max(probe.gbs(), passGbs);
      const ceiling = (gbs * 1e9) / pass.bytes;
      console.log(
        `memory ceiling: a read-only stream over ${(pass.bytes / 1e6).toFixed(0)} MB in our native probe (${native?.numThreads()} threads, best of ${probe.runs}, taken between the decode runs) reads ${probe.gbs().toFixed(1)} GB/s (the weight pass ${passGbs.toFixed(1)}); ` +
          `a step reads at least the ${(pass.bytes / 1e6).toFixed(0)} MB of ${pass.dtype} matmul weights (the ${LAYERS} layers' 4 matrices and the ${config.tie_word_embeddings ? "tied " : ""}${V}x${E} head), ` +
          `so at ${gbs.toFixed(1)} GB/s batch-1 decode is capped near ${ceiling.toFixed(1)} tokens/s (${(1000 / ceiling).toFixed(1)} ms per token): ours is ${((100 * ours.decode_b1_tok_s) / ceiling).toFixed(0)}% of it\n`,
      );
    } else {
      console.log("");
    }

    const check = tensor([Array.from({ length: 16 }, (_, i) => (7 * i) % config.vocab_size)], { dtype: "int64" });
    const ourCheck = (
      (await model.generate(check, { maxNewTokens: 4, eosTokenId: null })).tolistSync() as number[][]
    )[0]?.slice(16);
    const torch = values["skip-peers"] ? null : runTorch(dir);
    if (torch) {
      const same = JSON.stringify(torch.check) === JSON.stringify(ourCheck);
      const verdict =
        dtype !== "float32"
          ? "not compared (our weights are bf16)"
          : same
            ? "same tokens"
            : `DIFFERENT (ours ${ourCheck}, torch ${torch.check})`;
      console.log(`greedy check vs pytorch: ${verdict}\n`);
    }
    const onnx = values["skip-peers"] ? null : await runOnnx(dir, config, ourCheck ?? [], prefillPass);
    if (onnx?.oursPrefill !== undefined) {
      // Not the table's figure: while onnxruntime's sessions are loaded, their pools' threads
      // spin after each of its runs (straight after one, our process's CPU time per prefill rose
      // from ~390 to ~550 ms and ours took 1.4x as long; after the 50 ms pause, ~400-440 ms).
      console.log(
        `prefill measured alone (the table's figure): ${ours.prefill_ms.toFixed(1)} ms; alternating with onnxruntime's runs, its idle pool threads spinning beside ours: ${onnx.oursPrefill.toFixed(1)} ms\n`,
      );
    }
    const rows: [string, Measure, boolean][] = [
      [`prefill ${PROMPT} tokens (ms)`, "prefill_ms", false],
      ["decode batch 1 (tokens/s)", "decode_b1_tok_s", true],
      ["decode batch 8 (tokens/s)", "decode_b8_tok_s", true],
    ];
    const cell = (peer: Figures | null, key: Measure, higherBetter: boolean) => {
      const b = peer?.[key];
      if (b === undefined) return "skipped | –";
      const a = ours[key] as number;
      const t = peer?.threads?.[key];
      return `${b.toFixed(1)}${t ? ` (${t}t)` : ""} | ${(higherBetter ? a / b : b / a).toFixed(2)}`;
    };
    const ourThreads = native ? native.numThreads() : 1;
    console.log(
      `| measure | hearth (${dtype}, ${ourThreads}t) | pytorch (best threads) | ratio | onnxruntime-node (best threads) | ratio |`,
    );
    console.log("| --- | --- | --- | --- | --- | --- |");
    for (const [name, key, higherBetter] of rows) {
      const a = ours[key] as number;
      console.log(
        `| ${name} | ${a.toFixed(1)} | ${cell(torch, key, higherBetter)} | ${cell(onnx, key, higherBetter)} |`,
      );
    }
    console.log("\nratio > 1: hearth is faster.");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One batch-1 pass over every matrix a decoding step multiplies with (each Conv1D and the head),
 * timed two ways, best of 5 each:
 *   kernels  the native matrix-vector products alone, called straight on the weights' storage:
 *            the memory-bound floor of a step (its GB/s), with no per-op dispatch at all;
 *   modules  the same products through the model's layers (matmul op and bias add per Conv1D,
 *            as a step runs them), so the cost of dispatching ops shows as the difference.
 */
function weightPass(model: GPT2LMHeadModel): {
  kernelsMs: number | null;
  modulesMs: number;
  bytes: number;
  dtype: string;
} {
  const layers = [...model.namedModules()]
    .map(([, m]) => m)
    .filter((m): m is Conv1D | TiedLinear => m instanceof Conv1D || m instanceof TiedLinear);
  const inputs = layers.map((m) => randn([1, m instanceof Conv1D ? m.nx : (m.weight.shape[1] as number)]));
  const weights = layers.map((m) => (m instanceof Conv1D ? m.weight : m.matmulWeight));
  const bytes = weights.reduce((n, w) => n + w.size * (w.dtype === "float32" ? 4 : 2), 0);
  const best = (pass: () => void) => {
    let ms = Number.POSITIVE_INFINITY;
    for (let r = 0; r < 5; r++) {
      const t0 = performance.now();
      pass();
      ms = Math.min(ms, performance.now() - t0);
    }
    return ms;
  };
  const modulesMs = best(() =>
    noGrad(() => scope(() => layers.map((m, i) => m.forward(inputs[i] as Tensor).dataSync()))),
  );
  let kernelsMs: number | null = null;
  if (native) {
    const addon = native;
    // x in the weight's dtype (the matmul op casts it so too); out[j] = Σ_k x[k]·W(k, j), where
    // W(k, j) is a Conv1D weight's [k, j] and the head's [j, k].
    const calls = layers.map((m, i) => {
      const w = weights[i] as Tensor;
      const x = noGrad(() => to(inputs[i] as Tensor, w.dtype));
      const [K, N] = m instanceof Conv1D ? (w.shape as [number, number]) : [w.shape[1] as number, w.shape[0] as number];
      const [rs, cs] = m instanceof Conv1D ? [w.strides[0], w.strides[1]] : [w.strides[1], w.strides[0]];
      const out = new Float32Array(N);
      const dtype = w.dtype as "float32" | "bfloat16" | "float16";
      return () =>
        addon.gemm(
          dtype,
          1,
          N,
          K,
          1,
          x.storage.data,
          x.offset,
          [0, K, 1],
          w.storage.data,
          w.offset,
          [0, rs as number, cs as number],
          out,
          0,
          [0, N, 1],
          1,
          0,
        );
    });
    kernelsMs = best(() => {
      for (const call of calls) call();
    });
  }
  for (const x of inputs) x.dispose();
  return { kernelsMs, modulesMs, bytes, dtype: weights[0]?.dtype ?? "float32" };
}

/**
 * With `HEARTH_PROFILE` set: a decoding step (batch 1, then batch 8) taken apart, every millisecond of it
 * (figures per step: a run of `NEW + 1` tokens minus a run of 1, median of `RUNS`). The op
 * profiler's own timing calls add to the kernels' and allocations' rows, so the step runs a
 * little slower than unprofiled; the split is what to read.
 *   products       wall time inside the native GEMM calls (the weight stream), and of it the
 *                  thread pool's view: jobs that ran on the calling thread alone (the worker
 *                  asleep or its core taken), the caller's wait for the worker's last task, and
 *                  the bytes the idle worker read ahead of the next product (HEARTH_PREFETCH_NEXT)
 *   matmul host    the matmul kernel's JavaScript around the GEMM call
 *   other kernels  every other op's kernel (norms, attention, GELU, embeddings, cache copies)
 *   allocation     output buffers of kernel ops
 *   dispatch       the rest of each op call: validation, shape inference, Tensor objects
 *   views          op calls that made a view (reshape, transpose, slice) without a kernel
 *   outside ops    the model's and generate's JavaScript between op calls (module calls, the KV
 *                  cache's bookkeeping, reading the logits, choosing the token, next inputs)
 */
async function stepBreakdown(model: GPT2LMHeadModel, prompt: Tensor, products: { ms(): number }): Promise<void> {
  const addon = native;
  if (!addon) return;
  const read = () => ({ wall: performance.now(), gemm: products.ms(), pool: addon.poolStats() });
  const run = async (n: number) => {
    profileReset();
    const a = read();
    await model.generate(prompt, { maxNewTokens: n, minNewTokens: n });
    const b = read();
    const t = profileTotals();
    const matmul = [...t.kernels].filter(([k]) => k.startsWith("matmul")).reduce((s, [, r]) => s + r.ms, 0);
    return {
      wall: b.wall - a.wall,
      cpu: b.pool.threadCpuMs - a.pool.threadCpuMs,
      gemm: b.gemm - a.gemm,
      jobs: b.pool.jobs - a.pool.jobs,
      alone: b.pool.jobs - a.pool.jobs - (b.pool.helped - a.pool.helped),
      wait: b.pool.waitMs - a.pool.waitMs,
      readAhead: (b.pool.prefetchedBytes - a.pool.prefetchedBytes) / 1e6,
      matmulHost: matmul - (b.gemm - a.gemm),
      kernels: t.kernelMs - matmul,
      allocate: t.allocateMs,
      dispatch: t.dispatchMs - t.kernelMs - t.allocateMs - t.viewMs,
      views: t.viewMs,
      viewCalls: t.views,
      calls: t.calls,
      outside: b.wall - a.wall - t.dispatchMs,
    };
  };
  type Split = Awaited<ReturnType<typeof run>>;
  const steps: Split[] = [];
  for (let r = 0; r < RUNS; r++) {
    const one = await run(1);
    const many = await run(NEW + 1);
    const d = {} as Split;
    for (const k of Object.keys(one) as (keyof Split)[]) d[k] = (many[k] - one[k]) / NEW;
    steps.push(d);
  }
  const m = (k: keyof Split) => median(steps.map((s) => s[k]));
  const ms = (k: keyof Split) => `${m(k).toFixed(2)} ms`;
  const rows: [string, string][] = [
    ["step (wall)", `${ms("wall")} (the calling thread's CPU ${ms("cpu")})`],
    [
      "products (native GEMM calls)",
      `${ms("gemm")}: ${m("jobs").toFixed(0)} pool jobs, ${m("alone").toFixed(1)} of them on the calling thread alone, the caller waiting ${ms("wait")} for the worker's last tasks; ${m("readAhead").toFixed(0)} MB read ahead by the idle worker between products`,
    ],
    ["matmul host code", ms("matmulHost")],
    ["other kernels", ms("kernels")],
    ["allocation", ms("allocate")],
    ["dispatch", `${ms("dispatch")} over ${m("calls").toFixed(0)} op calls`],
    ["views", `${ms("views")} (${m("viewCalls").toFixed(0)} of the calls)`],
    ["outside ops", ms("outside")],
  ];
  const B = prompt.shape[0] as number;
  console.log(`batch-${B} decoding step, profiled (HEARTH_PROFILE; median of ${RUNS} runs of ${NEW} tokens):`);
  for (const [name, value] of rows) console.log(`  ${name.padEnd(30)} ${value}`);
  console.log(`  everything but the products     ${(m("wall") - m("gemm")).toFixed(2)} ms\n`);
}

/**
 * Wall time spent inside the native GEMM entry point (every matrix product of a step goes
 * through it) from now until `restore()`: the step time minus it is what runs between the
 * products. Null on the js backend.
 */
function timeProducts(): { ms(): number; restore(): void } | null {
  if (!native) return null;
  const addon = native;
  const gemm = addon.gemm;
  let total = 0;
  addon.gemm = (...args: Parameters<typeof gemm>) => {
    const t0 = performance.now();
    gemm(...args);
    total += performance.now() - t0;
  };
  return {
    ms: () => total,
    restore: () => {
      addon.gemm = gemm;
    },
  };
}

/**
 * The machine's read bandwidth at the moment, through our own native code: `streamRead` walks a
 * buffer of `bytes` (the size of the weights a step streams, so caches play the same part) on
 * the thread pool. `measure()` takes three readings back to back; `gbs()` is the best so far.
 * Null on the js backend.
 */
function bandwidthProbe(bytes: number): { measure(): void; gbs(): number; runs: number } | null {
  if (!native) return null;
  const addon = native;
  const buffer = addon.allocate(bytes);
  new Uint8Array(buffer).fill(1); // fault every page in before timing
  let best = Number.POSITIVE_INFINITY;
  const probe = {
    runs: 0,
    measure() {
      // Back to back, as decoding reads its weights step after step (a buffer this size may
      // partly stay in a large L3 between passes, for the weights and the probe alike).
      for (let pass = 0; pass < 3; pass++) {
        const t0 = performance.now();
        addon.streamRead(buffer, bytes);
        best = Math.min(best, performance.now() - t0);
        probe.runs++;
      }
    },
    gbs: () => bytes / best / 1e6,
  };
  probe.measure();
  return probe;
}

type Measure = "prefill_ms" | "decode_b1_tok_s" | "decode_b8_tok_s";

interface Figures {
  prefill_ms: number;
  decode_b1_tok_s: number;
  decode_b8_tok_s: number;
  check?: number[];
  /** A peer's: the intra-op thread count each figure was measured at. */
  threads?: Partial<Record<Measure, number>>;
  /** Our prefill (median ms), timed alternately with this peer's prefill runs. */
  oursPrefill?: number;
}

const MEASURES: [Measure, boolean][] = [
  ["prefill_ms", false],
  ["decode_b1_tok_s", true],
  ["decode_b8_tok_s", true],
];

/** Per measure, the best of a peer's figures at each thread count (lowest ms, highest tokens/s). */
function bestOfThreads(byThreads: Map<number, Figures>): Figures {
  const best: Figures = { prefill_ms: 0, decode_b1_tok_s: 0, decode_b8_tok_s: 0, threads: {} };
  for (const [key, higherBetter] of MEASURES) {
    let pick: [number, number] | null = null;
    for (const [t, f] of byThreads) {
      if (pick === null || (higherBetter ? f[key] > pick[1] : f[key] < pick[1])) pick = [t, f[key]];
    }
    if (pick) {
      best[key] = pick[1];
      (best.threads as Partial<Record<Measure, number>>)[key] = pick[0];
    }
  }
  return best;
}

/** Runs the PyTorch peer on the same checkpoint; null (with a message) when torch is absent. */
function runTorch(dir: string): Figures | null {
  const python = torchPython();
  if (!python) {
    console.log("pytorch peer: skipped (no python3 can import torch and numpy; `apt-get install python3-torch`)\n");
    return null;
  }
  const script = join(import.meta.dirname, "peers", "gpt2_torch.py");
  const args = [script, dir, String(PROMPT), String(NEW), String(RUNS), PEER_THREADS.join(","), String(WARMUP)];
  const run = spawnSync(python, args, {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    maxBuffer: 1 << 24,
  });
  if (run.status !== 0) {
    console.log(`pytorch peer: failed\n${run.stderr}`);
    return null;
  }
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1) as string) as {
    by_threads: Record<string, Figures>;
    check: number[];
  };
  const best = bestOfThreads(new Map(Object.entries(out.by_threads).map(([t, f]) => [Number(t), f])));
  return { ...best, check: out.check };
}

// Minimal typing of the onnxruntime-node API used here (the peer is not a dependency).
interface OrtTensor {
  data: Float32Array;
  dims: readonly number[];
}
interface Ort {
  Tensor: new (type: string, data: Float32Array | BigInt64Array, dims: number[]) => OrtTensor;
  InferenceSession: {
    create(
      path: string,
      options: object,
    ): Promise<{ run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> }>;
  };
}

/** Exports the torch model to ONNX and times it in onnxruntime-node; null (with a message) when it cannot. */
async function runOnnx(
  dir: string,
  config: GPT2Config,
  ourCheck: number[],
  oursPrefill: () => unknown,
): Promise<Figures | null> {
  const python = torchPython();
  if (!python) {
    console.log("onnxruntime-node peer: skipped (the ONNX export needs python3 with torch)\n");
    return null;
  }
  const peers = join(import.meta.dirname, ".peers");
  const entry = join(peers, "node_modules/onnxruntime-node/dist/index.js");
  if (!existsSync(entry)) {
    console.log("installing the peer: npm install --prefix bench/.peers --ignore-scripts onnxruntime-node@1.20.1");
    const install = spawnSync(
      "npm",
      [
        "install",
        "--prefix",
        peers,
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "onnxruntime-node@1.20.1",
      ],
      { stdio: "inherit", env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: "skip" } },
    );
    if (install.status !== 0) {
      console.log("onnxruntime-node peer: skipped (npm install failed)\n");
      return null;
    }
  }
  const file = join(dir, "gpt2.onnx");
  const exported = spawnSync(python, [join(import.meta.dirname, "peers", "gpt2_onnx_export.py"), dir, file], {
    encoding: "utf8",
  });
  if (exported.status !== 0) {
    console.log(`onnxruntime-node peer: export failed\n${exported.stderr}`);
    return null;
  }
  const ort = (await import(pathToFileURL(entry).href)) as Ort;
  type Session = Awaited<ReturnType<Ort["InferenceSession"]["create"]>>;
  const sessions = new Map<number, Session>();
  for (const t of PEER_THREADS) {
    sessions.set(t, await ort.InferenceSession.create(file, { intraOpNumThreads: t, interOpNumThreads: 1 }));
  }
  const L = config.n_layer;
  const H = config.n_head;
  const D = config.n_embd / H;
  const empty = (B: number) => new ort.Tensor("float32", new Float32Array(0), [L, B, H, 0, D]);
  const generate = async (session: Session, rows: number[][], n: number): Promise<number[][]> => {
    const B = rows.length;
    let cur = rows;
    let past = [empty(B), empty(B)] as [OrtTensor, OrtTensor];
    const out: number[][] = rows.map(() => []);
    for (let i = 0; i < n; i++) {
      const ids = new ort.Tensor("int64", BigInt64Array.from(cur.flat().map(BigInt)), [B, (cur[0] as number[]).length]);
      const r = await session.run({ input_ids: ids, past_keys: past[0], past_values: past[1] });
      const logits = (r.logits as OrtTensor).data;
      const V = logits.length / B;
      cur = rows.map((_, b) => {
        let best = 0;
        for (let v = 1; v < V; v++) if ((logits[b * V + v] as number) > (logits[b * V + best] as number)) best = v;
        (out[b] as number[]).push(best);
        return [best];
      });
      past = [r.present_keys as OrtTensor, r.present_values as OrtTensor];
    }
    return out;
  };
  const random = (B: number, n: number) =>
    Array.from({ length: B }, () => Array.from({ length: n }, () => Math.floor(Math.random() * config.vocab_size)));
  const first = sessions.get(PEER_THREADS[0] as number) as Session;
  const check = (await generate(first, [Array.from({ length: 16 }, (_, i) => (7 * i) % config.vocab_size)], 4))[0];
  const same = JSON.stringify(check) === JSON.stringify(ourCheck);
  console.log(
    `greedy check vs onnxruntime-node: ${same ? "same tokens" : `DIFFERENT (ours ${ourCheck}, onnx ${check})`}\n`,
  );
  // The thread counts alternate run by run, so load on the machine hits them alike.
  const byThreads = new Map<number, Figures>(
    PEER_THREADS.map((t) => [t, { prefill_ms: 0, decode_b1_tok_s: 0, decode_b8_tok_s: 0 }]),
  );
  for (const B of [1, 8] as const) {
    const p = random(B, 16);
    if (WARMUP > 0) for (const session of sessions.values()) await generate(session, p, WARMUP);
    const one = new Map<number, number[]>(PEER_THREADS.map((t) => [t, []]));
    const many = new Map<number, number[]>(PEER_THREADS.map((t) => [t, []]));
    for (let r = 0; r < RUNS; r++) {
      for (const [t, session] of sessions) {
        one.get(t)?.push(await time(() => generate(session, p, 1)));
        many.get(t)?.push(await time(() => generate(session, p, NEW + 1)));
      }
    }
    for (const [t, f] of byThreads) {
      const ms = median(many.get(t) as number[]) - median(one.get(t) as number[]);
      f[B === 1 ? "decode_b1_tok_s" : "decode_b8_tok_s"] = (B * NEW) / (ms / 1000);
    }
  }
  const prompt = random(1, PROMPT);
  const prefill = new Map<number, number[]>(PEER_THREADS.map((t) => [t, []]));
  // The prefill runs after the decode runs, as every engine's (see the header's warm-up). Our
  // prefill runs between the peer's, so both see the same load; the order rotates run by run
  // and each run starts after a 50 ms pause, so none always follows onnxruntime's pool while its
  // threads still spin after a run (measured: whoever came next lost 10-20% of its median).
  const ours: number[] = [];
  const timed: [number[], () => Promise<unknown> | unknown][] = [[ours, oursPrefill]];
  for (const [t, session] of sessions) timed.push([prefill.get(t) as number[], () => generate(session, prompt, 1)]);
  for (let r = 0; r < RUNS; r++) {
    for (let i = 0; i < timed.length; i++) {
      const [into, run] = timed[(i + r) % timed.length] as (typeof timed)[number];
      await new Promise((done) => setTimeout(done, 50));
      into.push(await time(run));
    }
  }
  for (const [t, f] of byThreads) f.prefill_ms = median(prefill.get(t) as number[]);
  return { ...bestOfThreads(byThreads), oursPrefill: median(ours) };
}

await main();
