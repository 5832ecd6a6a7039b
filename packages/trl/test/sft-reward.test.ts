/**
 * SFTTrainer (plain text, prompt–completion, conversational with the Llama 3 chat template,
 * packing, completion-only labels, PEFT config) and RewardTrainer (Bradley–Terry with and
 * without margin, accuracy, training raises accuracy on its pairs).
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { LoraConfig } from "@hearth/peft";
import { Linear, manualSeed, type Tensor, tensor } from "@hearth/tensor";
import { AutoModelForCausalLM, AutoTokenizer, GPT2Config, GPT2Model, TrainingArguments } from "@hearth/transformers";
import {
  bradleyTerryLoss,
  packFeatures,
  RewardTrainer,
  SFTConfig,
  SFTTrainer,
  sftCollator,
  tokenizeSft,
} from "../src/index.ts";
import { FIXTURES, HF_TINY } from "./helpers.ts";

const llama3 = () =>
  AutoTokenizer.fromPretrained(join(FIXTURES, "data/tokenizers/llama3-bpe"), {
    fileNames: { "tokenizer.json": "tokenizer.json.gz" },
  });

test("tokenizeSft: conversational records carry loss on assistant turns only (Llama 3 template)", async () => {
  const tok = await llama3();
  const messages = [
    { role: "user", content: "What is 2+2?" },
    { role: "assistant", content: "4" },
    { role: "user", content: "And 3+3?" },
    { role: "assistant", content: "6" },
  ];
  const f = tokenizeSft({ messages }, tok);
  const kept = f.input_ids.filter((_, i) => f.completion_mask[i]);
  const text = tok.decode(kept);
  assert.match(text, /^4<\|eot_id\|>.*6<\|eot_id\|>$/s, text);
  assert.ok(!text.includes("2+2") && !text.includes("user"), text);
  const all = tokenizeSft({ messages }, tok, { completionOnlyLoss: false });
  assert.ok(all.completion_mask.every((m) => m === 1));
  const pc = tokenizeSft({ prompt: "Q: hi", completion: " A: hello" }, tok);
  const eos = tok.decode([tok.eosTokenId as number]);
  assert.equal(tok.decode(pc.input_ids.filter((_, i) => pc.completion_mask[i])), ` A: hello${eos}`);
});

test("packFeatures joins with EOS and cuts full blocks; sftCollator labels masked/padded positions −100", () => {
  const packed = packFeatures(
    [
      { input_ids: [1, 2, 3], completion_mask: [0, 1, 1] },
      { input_ids: [4, 5], completion_mask: [1, 1] },
    ],
    3,
    9,
  );
  assert.deepEqual(packed, [
    { input_ids: [1, 2, 3], completion_mask: [0, 1, 1] },
    { input_ids: [9, 4, 5], completion_mask: [1, 1, 1] },
  ]);
  const b = sftCollator({ padTokenId: 0 })([
    { input_ids: [1, 2, 3], completion_mask: [0, 1, 1] },
    { input_ids: [4], completion_mask: [1] },
  ]);
  assert.deepEqual(b.labels?.tolistSync(), [
    [-100, 2, 3],
    [4, -100, -100],
  ]);
  assert.deepEqual(b.attentionMask.tolistSync(), [
    [1, 1, 1],
    [1, 0, 0],
  ]);
});

test("SFTTrainer with a LoRA peftConfig: loss falls, checkpoints are adapter folders", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-sft-"));
  try {
    manualSeed(0);
    const model = await AutoModelForCausalLM.fromPretrained(`${HF_TINY}models/gpt2`);
    const data = Array.from({ length: 6 }, (_, i) => ({
      input_ids: [10 + i, 20, 30, 40, 50, 60],
      completion_mask: [0, 0, 1, 1, 1, 1],
    }));
    const trainer = new SFTTrainer({
      model,
      args: new SFTConfig({
        outputDir: dir,
        maxSteps: 6,
        perDeviceTrainBatchSize: 3,
        learningRate: 5e-2,
        loggingSteps: 1,
        saveSteps: 3,
        logToConsole: false,
        disableTqdm: true,
      }),
      trainDataset: data,
      peftConfig: new LoraConfig({ r: 4, targetModules: ["c_attn"], loraDropout: 0 }),
    });
    await trainer.train();
    const losses = trainer.state.logHistory.filter((l) => l.loss !== undefined).map((l) => l.loss as number);
    assert.ok((losses.at(-1) as number) < (losses[0] as number) * 0.7, `loss falls: ${losses}`);
    assert.ok((await readdir(join(dir, "checkpoint-3"))).includes("adapter_model.safetensors"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("bradleyTerryLoss: −log σ(r_c − r_r − margin) and accuracy", () => {
  const c = tensor([1, 0, 2]);
  const r = tensor([0, 1, 2]);
  const want = [1, -1, 0].map((d) => Math.log1p(Math.exp(-d))).reduce((a, b) => a + b) / 3;
  const out = bradleyTerryLoss(c, r);
  assert.ok(Math.abs(out.loss.item() - want) < 1e-6);
  assert.ok(Math.abs(out.accuracy - 1 / 3) < 1e-6);
  const m = bradleyTerryLoss(c, r, tensor([0.5, 0.5, 0.5]));
  const wantM = [0.5, -1.5, -0.5].map((d) => Math.log1p(Math.exp(-d))).reduce((a, b) => a + b) / 3;
  assert.ok(Math.abs(m.loss.item() - wantM) < 1e-6);
});

/** A one-score head on the hf-tiny GPT-2 body (mean-pooled), for the reward trainer. */
class Scorer extends GPT2Model {
  readonly head: Linear;
  constructor(config: GPT2Config) {
    super(config);
    this.head = this.registerModule("head", new Linear(config.n_embd, 1));
  }
  override forward(i: { inputIds: Tensor; attentionMask?: Tensor }): never {
    const h = super.forward(i).lastHiddenState as Tensor;
    return { logits: this.head.forward(h.mean(1)) } as never;
  }
}

test("RewardTrainer: accuracy and eval_accuracy are logged; training ranks chosen above rejected", async () => {
  const dir = await mkdtemp(join(tmpdir(), "hearth-rm-"));
  try {
    manualSeed(0);
    const model = new Scorer(new GPT2Config({ vocab_size: 50, n_positions: 16, n_embd: 16, n_layer: 1, n_head: 2 }));
    // chosen answers use small ids, rejected ones large ids
    const pairs = Array.from({ length: 16 }, (_, i) => ({
      input_ids_chosen: [1, 2 + (i % 5), 3 + (i % 7), 4],
      input_ids_rejected: [1, 30 + (i % 5), 40 + (i % 7)],
      margin: 0.1,
    }));
    const trainer = new RewardTrainer({
      model,
      args: new TrainingArguments({
        outputDir: dir,
        maxSteps: 16,
        perDeviceTrainBatchSize: 8,
        learningRate: 1e-2,
        loggingSteps: 8,
        evalStrategy: "steps",
        evalSteps: 16,
        saveStrategy: "no",
        logToConsole: false,
        disableTqdm: true,
      }),
      trainDataset: pairs,
      evalDataset: pairs.slice(0, 8),
    });
    await trainer.train();
    const train = trainer.state.logHistory.filter((l) => l.loss !== undefined && l.accuracy !== undefined);
    const ev = trainer.state.logHistory.find((l) => l.eval_accuracy !== undefined);
    assert.equal(train.length, 2);
    assert.equal(ev?.eval_accuracy, 1, JSON.stringify(ev));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
