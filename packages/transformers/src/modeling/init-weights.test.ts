/**
 * Models built from a config start from Python's `_init_weights`: checked by the statistics of
 * every parameter of a generated GPT-2 (c_proj scaled by 1/√(2·n_layer)) and Llama (padding row
 * zero). (Loading is covered by the golden suites: `fromPretrained` builds without drawing.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { copy_, Linear, manualSeed, ones, type Tensor } from "@hearth/tensor";
import {
  AutoModelForCausalLM,
  GPT2Config,
  GPT2ForSequenceClassification,
  GPT2LMHeadModel,
  LlamaConfig,
} from "../index.ts";

function stats(t: Tensor): { mean: number; std: number } {
  const d = t.dataSync();
  let s = 0;
  for (const v of d) s += Number(v);
  const mean = s / d.length;
  let q = 0;
  for (const v of d) q += (Number(v) - mean) ** 2;
  return { mean, std: Math.sqrt(q / d.length) };
}

/** Asserts N(0, std²) within sampling error (5 standard errors of the std estimate). */
function assertNormal(name: string, t: Tensor, std: number): void {
  const s = stats(t);
  const se = std / Math.sqrt(2 * t.size);
  assert.ok(Math.abs(s.std - std) < 5 * se + 1e-7, `${name}: std ${s.std}, expected ${std}`);
  assert.ok(Math.abs(s.mean) < (5 * std) / Math.sqrt(t.size), `${name}: mean ${s.mean}`);
}

function assertConstant(name: string, t: Tensor, value: number): void {
  for (const v of t.dataSync()) assert.equal(Number(v), value, `${name} is not all ${value}`);
}

test("GPT-2 from a config: N(0, 0.02) weights, residual projections scaled, zero biases, unit LayerNorms", () => {
  manualSeed(0);
  const config = new GPT2Config({
    vocab_size: 512,
    n_positions: 64,
    n_embd: 128,
    n_layer: 6,
    n_head: 4,
    initializer_range: 0.03,
  });
  const model = new GPT2LMHeadModel(config);
  let checked = 0;
  for (const [name, p] of model.namedParameters()) {
    if (/ln_.*\.weight$/.test(name)) assertConstant(name, p, 1);
    else if (name.endsWith(".bias")) assertConstant(name, p, 0);
    else if (name.endsWith("c_proj.weight")) assertNormal(name, p, 0.03 / Math.sqrt(2 * 6));
    else assertNormal(name, p, 0.03);
    checked++;
  }
  assert.equal(checked, 2 + 6 * 12 + 2);
  // the classification head: bias-free score from N(0, initializer_range²)
  const clf = new GPT2ForSequenceClassification(config.clone({ num_labels: 4 }));
  assertNormal("score.weight", clf.score.weight, 0.03);
});

test("Llama from a config (AutoModelForCausalLM.fromConfig): N(0, 0.02) linears and embedding, pad row zero, unit RMSNorms", () => {
  manualSeed(1);
  const config = new LlamaConfig({
    vocab_size: 256,
    hidden_size: 128,
    intermediate_size: 256,
    num_hidden_layers: 3,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    pad_token_id: 3,
  });
  const model = AutoModelForCausalLM.fromConfig(config);
  for (const [name, p] of model.namedParameters()) {
    if (name.endsWith("norm.weight")) assertConstant(name, p, 1);
    else if (name === "model.embed_tokens.weight") {
      assertConstant("padding row", p.narrow(0, 3, 1), 0);
      assertNormal(name, p.narrow(0, 4, 252), 0.02);
    } else assertNormal(name, p, 0.02);
  }
});

test("only construction initialises: a module registered afterwards (an adapter's copy) keeps its values", () => {
  manualSeed(2);
  const clf = new GPT2ForSequenceClassification(
    new GPT2Config({ vocab_size: 64, n_positions: 16, n_embd: 32, n_layer: 1, n_head: 2, num_labels: 2 }),
  );
  const copy = new Linear(32, 2, { bias: false });
  copy_(copy.weight, ones([2, 32]));
  clf.registerModule("score", copy);
  assertConstant("the registered copy", copy.weight, 1);
});
