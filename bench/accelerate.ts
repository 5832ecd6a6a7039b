// Accelerate throughput on the CPU:
//  1. mixed precision: training steps/s of a GPT-2-shaped model (4 layers, d 512, batch 8x128)
//     with mixedPrecision "no" (float32, the baseline measured in the same run) and "bf16"
//     (matmuls through the native bf16 GEMM), and their ratio;
//  2. data parallel: samples/s of 1 process vs `launch` with 2 processes (same global batch,
//     splitBatches) on the same model, and the ratio (ideal 2x with 2 free cores).
//
//   npm run bench -- accelerate [--layers 4] [--width 512] [--steps 4] [--skip-dp]
//
// Numbers taken on the shared 2-core development machine are noisy: other jobs run beside them.
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Accelerator, launch, type MixedPrecision } from "../packages/accelerate/src/index.ts";
import {
  AdamW,
  add,
  arange,
  crossEntropy,
  Embedding,
  gelu,
  getBackend,
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

const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const L = opt("layers", 4);
const C = opt("width", 512);
const H = 8;
const V = 4096;
const B = opt("batch", 8);
const T = opt("seq", 128);
const STEPS = opt("steps", 4);

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

/** Seconds per step after one warm-up step. */
async function run(acc: Accelerator): Promise<number> {
  manualSeed(1);
  const net = new Gpt();
  const [model, optim, loader] = await acc.prepare(net, new AdamW(net.parameters(), { lr: 1e-4 }), data());
  let start = 0;
  let i = 0;
  for (const ids of loader) {
    if (i++ === 1) start = performance.now();
    await scope(async () => {
      const inp = ids.narrow(1, 0, T);
      const tgt = ids.narrow(1, 1, T).contiguous();
      const logits = model.forward(inp);
      const loss = crossEntropy(reshape(logits, [-1, V]), reshape(tgt, [-1]));
      await acc.backward(loss);
      optim.step();
      optim.zeroGrad();
    });
  }
  return (performance.now() - start) / 1000 / (i - 1);
}

if (process.env.HEARTH_RANK !== undefined) {
  // a data-parallel worker: report rank 0's seconds per global step
  const acc = new Accelerator({ splitBatches: true });
  const s = await run(acc);
  if (acc.isMainProcess) console.log(`DP_SECONDS ${s}`);
  await acc.endTraining();
} else {
  if (getBackend().name !== "cpu")
    console.error("bench/accelerate: native cpu backend missing; numbers are js-backend");
  console.log(
    `model: ${L} layers, d ${C}, vocab ${V}, batch ${B}x${T}, ${STEPS} timed steps, backend ${getBackend().name}`,
  );
  const times: Record<string, number> = {};
  for (const mp of ["no", "bf16"] as MixedPrecision[]) {
    const s = await run(new Accelerator({ mixedPrecision: mp }));
    times[mp] = Math.min(times[mp] ?? Number.POSITIVE_INFINITY, s);
  }
  const fp32 = times.no as number;
  const bf16 = times.bf16 as number;
  console.log(`| mixed precision | s/step | tokens/s |`);
  console.log(`| fp32 (baseline) | ${fp32.toFixed(3)} | ${((B * T) / fp32).toFixed(0)} |`);
  console.log(`| bf16            | ${bf16.toFixed(3)} | ${((B * T) / bf16).toFixed(0)} |`);
  console.log(`bf16 speed-up over fp32: ${(fp32 / bf16).toFixed(2)}x`);
  if (!args.includes("--skip-dp")) {
    const one = await run(new Accelerator({ splitBatches: true }));
    let out = "";
    const res = await launch({
      script: join(import.meta.dirname, "accelerate.ts"),
      args: args.filter((a) => a !== "--skip-dp"),
      numProcesses: 2,
      // one kernel thread per worker: the single process already uses every core for its GEMMs
      env: { HEARTH_NUM_THREADS: String(Math.max(1, Math.floor(availableParallelism() / 2))) },
      stdio: "pipe",
      onOutput: (_r, c) => {
        out += c;
      },
    });
    const two = Number(/DP_SECONDS (\S+)/.exec(out)?.[1]);
    if (res.code !== 0 || !Number.isFinite(two)) throw new Error(`data-parallel run failed: ${out}`);
    console.log(`| data parallel | s/global step | samples/s |`);
    console.log(`| 1 process     | ${one.toFixed(3)} | ${(B / one).toFixed(1)} |`);
    console.log(`| 2 processes   | ${two.toFixed(3)} | ${(B / two).toFixed(1)} |`);
    console.log(`2-process speed-up: ${(one / two).toFixed(2)}x`);
  }
}
