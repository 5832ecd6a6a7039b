/**
 * Training-step speed on a GPT-2-small-shaped model (n_embd 768, 12 heads, vocab 50,257, tied
 * head; `--layers` of them, default 12 = 124M parameters), batch 4 × 128 tokens:
 *
 *   full   forward + backward + AdamW on every parameter
 *   lora   forward + backward + AdamW on LoRA r = 8 adapters of attn.c_attn (base frozen)
 *
 * Median step time over `--steps` steps after one warm-up step, and the growth of resident
 * memory across them. Peer in the same run: PyTorch CPU with the same shapes
 * (bench/peers/gpt2_train_torch.py, Debian `python3-torch`), skipped with a message when
 * torch is absent.
 *
 * Run: npm run bench -- train [--layers 12] [--batch 4] [--seq 128] [--steps 3] [--threads 2]
 * On the js reference backend a 124M step takes many minutes; `--layers 1 --seq 32` gives a
 * quick look (the ratio to torch is then for that shape).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { getPeftModel, LoraConfig } from "../packages/peft/src/index.ts";
import {
  AdamW,
  copy_,
  getBackend,
  manualSeed,
  noGrad,
  randint,
  randn,
  scope,
  type Tensor,
} from "../packages/tensor/src/index.ts";
import { residentBytes } from "../packages/tensor/src/native/index.ts";
import { GPT2Config, GPT2LMHeadModel } from "../packages/transformers/src/index.ts";

const { values } = parseArgs({
  options: {
    layers: { type: "string", default: "12" },
    batch: { type: "string", default: "4" },
    seq: { type: "string", default: "128" },
    steps: { type: "string", default: "3" },
    threads: { type: "string", default: "2" },
  },
});
const L = Number(values.layers);
const B = Number(values.batch);
const T = Number(values.seq);
const STEPS = Number(values.steps);

function build(): GPT2LMHeadModel {
  manualSeed(0);
  const m = new GPT2LMHeadModel(new GPT2Config({ n_layer: L, resid_pdrop: 0, embd_pdrop: 0, attn_pdrop: 0 }));
  noGrad(() => {
    for (const [, p] of m.namedParameters()) if (p.ndim === 2) copy_(p, randn([...p.shape], { std: 0.02 }));
  });
  return m.train();
}

function time(mode: "full" | "lora"): { ms: number; rssGrowthMiB: number; trainable: number } {
  const base = build();
  const model =
    mode === "full"
      ? base
      : getPeftModel(base, new LoraConfig({ r: 8, loraAlpha: 16, targetModules: ["attn.c_attn"] }));
  const params = model.parameters().filter((p) => p.requiresGrad);
  const opt = new AdamW(params, { lr: 1e-4 });
  const ids = randint(0, 50257, [B, T], { dtype: "int64" });
  const times: number[] = [];
  let rss0 = 0;
  for (let s = 0; s <= STEPS; s++) {
    const t0 = performance.now();
    scope(() => {
      const { loss } = model.forward({ inputIds: ids, labels: ids }) as { loss: Tensor };
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
    if (s === 0) rss0 = residentBytes();
    else times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    ms: times[Math.floor(times.length / 2)] as number,
    rssGrowthMiB: (residentBytes() - rss0) / 2 ** 20,
    trainable: params.reduce((s, p) => s + p.size, 0),
  };
}

console.log(
  `GPT-2 shape: ${L} layers, n_embd 768, vocab 50257; batch ${B} × ${T}; backend ${getBackend().name}; ${STEPS} timed steps`,
);
const ours = { full: time("full"), lora: time("lora") };
const peer = spawnSync(
  "python3",
  [
    join(import.meta.dirname, "peers/gpt2_train_torch.py"),
    String(L),
    String(B),
    String(T),
    String(STEPS),
    values.threads as string,
  ],
  {
    encoding: "utf8",
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
  },
);
let torch: { full_ms: number; lora_ms: number } | null = null;
if (peer.status === 0) torch = JSON.parse(peer.stdout.trim().split("\n").at(-1) as string);
else
  console.log(
    `PyTorch peer skipped: ${(peer.stderr || peer.error?.message || "python3 failed").trim().split("\n").at(-1)} (install Debian python3-torch)`,
  );
for (const mode of ["full", "lora"] as const) {
  const o = ours[mode];
  const t = torch ? torch[`${mode}_ms`] : null;
  console.log(
    `${mode.padEnd(4)}  hearth ${o.ms.toFixed(0).padStart(8)} ms/step  (${o.trainable.toLocaleString("en-US")} trainable, rss +${o.rssGrowthMiB.toFixed(1)} MiB over ${STEPS} steps)` +
      (t ? `   torch ${t.toFixed(0).padStart(7)} ms/step   ratio ${(o.ms / t).toFixed(2)}×` : ""),
  );
}
