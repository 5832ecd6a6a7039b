/**
 * A tiny GPT-2-shaped language model for the tests: token + position embeddings, pre-norm
 * blocks (causal self-attention, GELU MLP), a final norm and an LM head.
 */
import {
  add,
  arange,
  crossEntropy,
  Embedding,
  gelu,
  LayerNorm,
  Linear,
  Module,
  noGrad,
  reshape,
  scaledDotProductAttention,
  split,
  type Tensor,
  tensor,
  transpose,
} from "@hearth/tensor";

export interface TinyGptConfig {
  vocab: number;
  ctx: number;
  width: number;
  heads: number;
  layers: number;
}

export class Block extends Module {
  ln1: LayerNorm;
  qkv: Linear;
  proj: Linear;
  ln2: LayerNorm;
  fc: Linear;
  out: Linear;
  constructor(readonly c: TinyGptConfig) {
    super();
    this.ln1 = this.registerModule("ln_1", new LayerNorm([c.width]));
    this.qkv = this.registerModule("c_attn", new Linear(c.width, 3 * c.width));
    this.proj = this.registerModule("c_proj", new Linear(c.width, c.width));
    this.ln2 = this.registerModule("ln_2", new LayerNorm([c.width]));
    this.fc = this.registerModule("c_fc", new Linear(c.width, 4 * c.width));
    this.out = this.registerModule("mlp_proj", new Linear(4 * c.width, c.width));
  }
  forward(x: Tensor): Tensor {
    const [B, T, C] = x.shape as [number, number, number];
    const H = this.c.heads;
    const heads = split(this.qkv.forward(this.ln1.forward(x)), C, -1).map((t) =>
      transpose(reshape(t, [B, T, H, C / H]), 1, 2),
    ) as [Tensor, Tensor, Tensor];
    const att = scaledDotProductAttention(heads[0], heads[1], heads[2], { isCausal: true });
    const h = add(x, this.proj.forward(reshape(transpose(att, 1, 2), [B, T, C])));
    return add(h, this.out.forward(gelu(this.fc.forward(this.ln2.forward(h)))));
  }
}

export class TinyGpt extends Module {
  wte: Embedding;
  wpe: Embedding;
  blocks: Block[];
  lnF: LayerNorm;
  head: Linear;
  constructor(readonly c: TinyGptConfig) {
    super();
    this.wte = this.registerModule("wte", new Embedding(c.vocab, c.width));
    this.wpe = this.registerModule("wpe", new Embedding(c.ctx, c.width));
    this.blocks = [];
    const h = this.registerModule("h", new Module());
    for (let i = 0; i < c.layers; i++) this.blocks.push(h.registerModule(String(i), new Block(c)));
    this.lnF = this.registerModule("ln_f", new LayerNorm([c.width]));
    this.head = this.registerModule("lm_head", new Linear(c.width, c.vocab, { bias: false }));
  }
  /** Logits [B, T, V] for ids [B, T]. */
  forward(ids: Tensor): Tensor {
    const T = ids.shape[1] as number;
    let x = add(this.wte.forward(ids), this.wpe.forward(arange(T, undefined, 1, { dtype: "int64" })));
    for (const b of this.blocks) x = b.forward(x);
    return this.head.forward(this.lnF.forward(x));
  }
}

/** Mean next-token cross-entropy of `model` on ids [B, T+1] (computed in float32). */
export function lmLoss(model: TinyGpt, ids: Tensor): Tensor {
  const [B, T1] = ids.shape as [number, number];
  const T = T1 - 1;
  const input = ids.narrow(1, 0, T);
  const target = ids.narrow(1, 1, T);
  const logits = model.forward(input);
  return crossEntropy(reshape(logits, [B * T, model.c.vocab]), reshape(target.contiguous(), [B * T]));
}

/** Deterministic text-like token stream: phrases of a small grammar picked by an LCG. */
export function corpus(n: number, vocab: number, seed = 1): number[] {
  const phrases = [
    [1, 2, 3, 4, 5],
    [6, 7, 8, 3, 9],
    [10, 11, 2, 12],
    [13, 4, 14, 15, 16, 17],
    [18, 19, 7, 20],
  ].map((p) => p.map((t) => t % vocab));
  let s = seed >>> 0;
  const out: number[] = [];
  while (out.length < n) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(...(phrases[s % phrases.length] as number[]), 0);
  }
  return out.slice(0, n);
}

/** Greedy decoding of `n` tokens after `prompt` (full recompute each step); returns the new ids. */
export function greedy(model: TinyGpt, prompt: number[], n: number, onStep?: () => void): number[] {
  const ids = [...prompt];
  for (let s = 0; s < n; s++) {
    const logits = noGrad(() => model.forward(tensor(Int32Array.from(ids), { shape: [1, ids.length] }).to("int64")));
    const last = logits.narrow(1, ids.length - 1, 1).dataSync();
    let best = 0;
    for (let v = 1; v < last.length; v++) if ((last[v] as number) > (last[best] as number)) best = v;
    ids.push(best);
    logits.dispose();
    onStep?.();
  }
  return ids.slice(prompt.length);
}
