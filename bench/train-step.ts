// One GPT-2-small-shaped training step (forward, backward, AdamW) on the native `cpu` backend:
// 12 layers, d 768, 12 heads, vocab 50257, batch 4×128, causal attention, tied LM head.
// The peer is the `js` reference backend, measured on a reduced model (2 layers, d 128,
// vocab 2048, batch 2×32) in the same run, where both backends finish in seconds.
//
//   npm run bench -- train-step [--layers 12] [--steps 3]
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
  ModuleList,
  manualSeed,
  matmul,
  randint,
  reshape,
  scaledDotProductAttention,
  scope,
  split,
  type Tensor,
  transpose,
  withBackend,
} from "../packages/tensor/src/index.ts";

if (getBackend().name !== "cpu") {
  console.error("bench/train-step: the native cpu backend is not available (run `npm install`)");
  process.exit(1);
}
const args = process.argv.slice(2);
const opt = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

interface Config {
  layers: number;
  d: number;
  heads: number;
  vocab: number;
  batch: number;
  seq: number;
}

class Block extends Module {
  ln1: LayerNorm;
  qkv: Linear;
  proj: Linear;
  ln2: LayerNorm;
  fc: Linear;
  out: Linear;
  constructor(readonly c: Config) {
    super();
    this.ln1 = this.registerModule("ln1", new LayerNorm(c.d));
    this.qkv = this.registerModule("qkv", new Linear(c.d, 3 * c.d));
    this.proj = this.registerModule("proj", new Linear(c.d, c.d));
    this.ln2 = this.registerModule("ln2", new LayerNorm(c.d));
    this.fc = this.registerModule("fc", new Linear(c.d, 4 * c.d));
    this.out = this.registerModule("out", new Linear(4 * c.d, c.d));
  }
  forward(h: Tensor): Tensor {
    const { batch: B, seq: T, d: C, heads: H } = this.c;
    const [q, k, v] = split(this.qkv.forward(this.ln1.forward(h)), C, -1).map((t) =>
      transpose(reshape(t, [B, T, H, C / H]), 1, 2),
    ) as [Tensor, Tensor, Tensor];
    const y = reshape(transpose(scaledDotProductAttention(q, k, v, { isCausal: true }), 1, 2), [B, T, C]);
    h = add(h, this.proj.forward(y));
    return add(h, this.out.forward(gelu(this.fc.forward(this.ln2.forward(h)), "tanh")));
  }
}

class Gpt extends Module {
  wte: Embedding;
  wpe: Embedding;
  blocks: ModuleList;
  lnf: LayerNorm;
  constructor(readonly c: Config) {
    super();
    this.wte = this.registerModule("wte", new Embedding(c.vocab, c.d));
    this.wpe = this.registerModule("wpe", new Embedding(c.seq, c.d));
    this.blocks = this.registerModule("blocks", new ModuleList(Array.from({ length: c.layers }, () => new Block(c))));
    this.lnf = this.registerModule("lnf", new LayerNorm(c.d));
  }
  forward(ids: Tensor): Tensor {
    let h = add(this.wte.forward(ids), this.wpe.forward(arange(this.c.seq, undefined, 1, { dtype: "int64" })));
    for (const b of this.blocks) h = (b as Block).forward(h);
    return matmul(this.lnf.forward(h), transpose(this.wte.weight, 0, 1)); // tied LM head
  }
}

/** Median seconds per training step after one warm-up step. */
function measure(c: Config, steps: number): { secs: number; loss: number } {
  manualSeed(0);
  const model = new Gpt(c);
  const optim = new AdamW(model.parameters(), { lr: 1e-4 });
  const ids = randint(0, c.vocab, [c.batch, c.seq]);
  const labels = randint(0, c.vocab, [c.batch * c.seq]);
  const step = () =>
    scope(() => {
      const logits = model.forward(ids);
      const loss = crossEntropy(reshape(logits, [-1, c.vocab]), labels);
      loss.backward();
      optim.step();
      optim.zeroGrad();
      return loss.item();
    });
  let loss = step();
  const times: number[] = [];
  for (let s = 0; s < steps; s++) {
    const t = performance.now();
    loss = step();
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  return { secs: times[Math.floor(times.length / 2)] as number, loss };
}

const small: Config = { layers: 2, d: 128, heads: 4, vocab: 2048, batch: 2, seq: 32 };
const ours = measure(small, 3);
const peer = withBackend("js", () => measure(small, 1));
console.log(`reduced model ${JSON.stringify(small)}`);
console.log(
  `  cpu ${(ours.secs * 1e3).toFixed(0)} ms/step, js ${(peer.secs * 1e3).toFixed(0)} ms/step, js/cpu ${(peer.secs / ours.secs).toFixed(1)}x`,
);

const full: Config = { layers: opt("layers", 12), d: 768, heads: 12, vocab: 50257, batch: 4, seq: 128 };
const r = measure(full, opt("steps", 2));
console.log(`GPT-2-small shape ${JSON.stringify(full)}`);
console.log(`  cpu ${r.secs.toFixed(2)} s/step (loss ${r.loss.toFixed(3)}), ${getBackend().name} backend`);
console.log("\nNote: the machine's 2 cores may be shared with other work; numbers are noisy.");
