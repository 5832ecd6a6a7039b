// GPT-2 built from the engine's primitives reproduces the Python stack's three AdamW steps
// (fixtures/hf-tiny/goldens/gpt2-adamw.*): losses, logits, gradients, optimiser state and
// parameters after each step, to 1e-5 relative.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  AdamW,
  add,
  arange,
  crossEntropy,
  div,
  embedding,
  gelu,
  indexSelect,
  layerNorm,
  matmul,
  mul,
  ones,
  reshape,
  slice,
  softmax,
  split,
  sub,
  type Tensor,
  tensor,
  transpose,
  tril,
  where,
} from "../src/index.ts";
import { readSafetensors } from "./helpers/read-safetensors.ts";

const root = new URL("../../../fixtures/hf-tiny/", import.meta.url);
const golden = JSON.parse(readFileSync(new URL("goldens/gpt2-adamw.json", root), "utf8"));
const config = JSON.parse(readFileSync(new URL("models/gpt2/config.json", root), "utf8"));
const expected = readSafetensors(new URL("goldens/gpt2-adamw.safetensors", root).pathname);
const F32_MIN = -3.4028234663852886e38;

type Params = Record<string, Tensor>;

/** GPT2LMHeadModel's forward pass (dropout off): logits [B, T, V]. */
function gpt2(p: Params, ids: Tensor, mask: Tensor): Tensor {
  const [B, T] = ids.shape as [number, number];
  const C = config.n_embd as number;
  const H = config.n_head as number;
  const D = C / H;
  const eps = config.layer_norm_epsilon as number;
  const w = (name: string) => p[`transformer.${name}`] as Tensor;
  const conv1d = (x: Tensor, name: string) => add(matmul(x, w(`${name}.weight`)), w(`${name}.bias`)); // HF Conv1D: x @ W + b
  let h = add(embedding(ids, w("wte.weight")), embedding(arange(T, undefined, 1, { dtype: "int64" }), w("wpe.weight")));
  const causal = tril(ones([T, T], { dtype: "bool" }));
  // (1 - mask) * finfo.min, broadcast over heads and queries: [B, 1, 1, T]
  const additive = reshape(mul(sub(1, mask.to("float32")), F32_MIN), [B, 1, 1, T]);
  for (let l = 0; l < config.n_layer; l++) {
    const a = layerNorm(h, [C], w(`h.${l}.ln_1.weight`), w(`h.${l}.ln_1.bias`), eps);
    const [q, k, v] = split(conv1d(a, `h.${l}.attn.c_attn`), C, -1).map((t) =>
      transpose(reshape(t, [B, T, H, D]), 1, 2),
    ) as [Tensor, Tensor, Tensor];
    let att = div(matmul(q, transpose(k, -1, -2)), Math.sqrt(D));
    att = add(where(causal, att, F32_MIN), additive);
    const y = reshape(transpose(matmul(softmax(att, -1), v), 1, 2), [B, T, C]);
    h = add(h, conv1d(y, `h.${l}.attn.c_proj`));
    const m = layerNorm(h, [C], w(`h.${l}.ln_2.weight`), w(`h.${l}.ln_2.bias`), eps);
    h = add(h, conv1d(gelu(conv1d(m, `h.${l}.mlp.c_fc`), "tanh"), `h.${l}.mlp.c_proj`));
  }
  h = layerNorm(h, [C], w("ln_f.weight"), w("ln_f.bias"), eps);
  return matmul(h, transpose(w("wte.weight"), 0, 1)); // tied lm_head
}

/** The tensor a golden name refers to (`name[rows]`, `name[:12]` select rows). */
function select(t: Tensor, suffix: string): Tensor {
  if (suffix === "[rows]") return indexSelect(t, 0, tensor(golden.wte_rows as number[], { dtype: "int64" }));
  if (suffix === "[:12]") return slice(t, 0, 0, 12);
  return t;
}

/**
 * The key part of `attn.c_attn.bias` (elements C..2C) has an analytically zero gradient: adding
 * a constant to every key shifts all scores of a query equally, which softmax ignores. Both
 * stacks compute float rounding noise there (|g| ~ 1e-9), which Adam's first step normalises to
 * ±lr, so those elements of the parameters and Adam state are compared separately (the
 * gradients must be tiny in both), not element-wise.
 */
function skipped(name: string): (i: number) => boolean {
  const C = config.n_embd as number;
  if (/attn\.c_attn\.bias/.test(name) && !name.startsWith("grad_")) return (i) => i >= C && i < 2 * C;
  return () => false;
}

function assertClose(name: string, got: Tensor, want: Tensor, rel = 1e-5): void {
  assert.deepEqual(got.shape, want.shape, name);
  const a = got.dataSync() as Float32Array;
  const b = want.dataSync() as Float32Array;
  const skip = skipped(name);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < b.length; i++) {
    if (skip(i)) continue;
    scale = Math.max(scale, Math.abs(b[i] as number));
    err = Math.max(err, Math.abs((a[i] as number) - (b[i] as number)));
  }
  assert.ok(err <= rel * scale, `${name}: max abs error ${err} > ${rel} x max |value| ${scale}`);
}

test("GPT-2 + AdamW reproduces the Python stack's three steps", () => {
  const weights = readSafetensors(new URL("models/gpt2/model.safetensors", root).pathname);
  const params: Params = {};
  for (const name of golden.param_order as string[]) {
    const src = weights[name];
    assert.ok(src, `model.safetensors lacks ${name}`);
    params[name] = src.clone().detach().requiresGrad_();
  }
  const ids = tensor(golden.input_ids as number[][], { dtype: "int64" });
  const mask = tensor(golden.attention_mask as number[][], { dtype: "int64" });
  const labels = tensor(golden.labels as number[][], { dtype: "int64" });
  const opt = new AdamW(
    (golden.param_order as string[]).map((n) => params[n] as Tensor),
    {
      lr: golden.optimizer.lr,
      betas: golden.optimizer.betas,
      eps: golden.optimizer.eps,
      weightDecay: golden.optimizer.weight_decay,
    },
  );
  const V = config.vocab_size as number;
  let compared = 0;
  for (let step = 1; step <= 3; step++) {
    const logits = gpt2(params, ids, mask);
    const T = logits.shape[1] as number;
    // shift: position t predicts token t+1
    const loss = crossEntropy(reshape(slice(logits, 1, 0, T - 1), [-1, V]), reshape(slice(labels, 1, 1), [-1]));
    const want = golden.loss_before_each_step[step - 1] as number;
    assert.ok(
      Math.abs(loss.item() - want) <= 1e-5 * Math.abs(want),
      `loss before step ${step}: ${loss.item()} vs ${want}`,
    );
    loss.backward();
    if (step === 1) {
      assertClose("step1.logits", logits, expected["step1.logits"] as Tensor);
      const C = config.n_embd as number;
      for (let l = 0; l < config.n_layer; l++) {
        const g = params[`transformer.h.${l}.attn.c_attn.bias`]?.grad?.dataSync() as Float32Array;
        const keyBias = Array.from(g.subarray(C, 2 * C), Math.abs);
        assert.ok(
          Math.max(...keyBias) < 1e-6,
          `layer ${l}: key-bias gradient should vanish, max ${Math.max(...keyBias)}`,
        );
      }
      const gk = expected["grad_step1.transformer.h.0.attn.c_attn.bias"]?.dataSync() as Float32Array;
      assert.ok(
        Math.max(...Array.from(gk.subarray(C, 2 * C), Math.abs)) < 1e-6,
        "golden key-bias gradient vanishes too",
      );
      let sq = 0;
      for (const p of Object.values(params)) for (const g of (p.grad as Tensor).dataSync() as Float32Array) sq += g * g;
      assert.ok(Math.abs(Math.sqrt(sq) - golden.grad_norm_step1) <= 1e-5 * golden.grad_norm_step1, "grad norm");
    }
    opt.step();
    for (const [key, want] of Object.entries(expected)) {
      const m =
        /^(grad_step|param_after_step|adam_state_step)(\d)\.(transformer\.[a-z0-9_.]+?weight|transformer\.[a-z0-9_.]+?bias)(\[rows\]|\[:12\])?(\.exp_avg_sq|\.exp_avg)?$/.exec(
          key,
        );
      if (!m || Number(m[2]) !== step) continue;
      const p = params[m[3] as string] as Tensor;
      compared++;
      if (m[1] === "grad_step") assertClose(key, select(p.grad as Tensor, m[4] ?? ""), want);
      else if (m[1] === "param_after_step") assertClose(key, select(p, m[4] ?? ""), want);
      else {
        const st = opt.state.get(p) as Record<string, Float32Array>;
        const buf = m[5] === ".exp_avg" ? st.expAvg : st.expAvgSq;
        assertClose(key, tensor(buf as Float32Array, { shape: [...p.shape] }), want);
      }
    }
    opt.zeroGrad();
  }
  assert.equal(compared, Object.keys(expected).length - 1, "every golden tensor but the logits was compared");
  const finalLoss = crossEntropy(
    reshape(slice(gpt2(params, ids, mask), 1, 0, 11), [-1, V]),
    reshape(slice(labels, 1, 1), [-1]),
  ).item();
  assert.ok(
    Math.abs(finalLoss - golden.loss_after_all_steps) <= 1e-5 * golden.loss_after_all_steps,
    `final loss ${finalLoss}`,
  );
});
