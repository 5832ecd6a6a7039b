/**
 * DPO on Anthropic's hh-rlhf harmless-base preference pairs with a tiny GPT-2: the held-out
 * reward accuracy (how often β·(log π − log π_ref) ranks the chosen answer above the rejected
 * one on pairs never trained on) is printed as training goes.
 *
 *   node --import tsx examples/dpo-hh-rlhf.ts [--steps 100] [--train 1600] [--heldout 300]
 *
 * Data: ../shared/data/datasets/preference/hh-rlhf-harmless-base-test.jsonl.gz when present,
 * else the slice in fixtures/. Each record is `{chosen, rejected}`: whole dialogues sharing a
 * prefix, split into prompt + answers at the last common "Assistant:" (implicit prompt).
 * Tokens: GPT-2's tokenizer, trimmed to the data's most frequent ids (examples/lib/vocab.ts).
 * The policy is a randomly initialised 2-layer GPT-2 and the reference its frozen initial
 * state, whose log-probs are precomputed once (`precomputeRefLogProbs`), so each step costs
 * one forward and backward of the policy.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { manualSeed } from "@hearth/tensor";
import { AutoTokenizer, GPT2Config, GPT2LMHeadModel } from "@hearth/transformers";
import { DPOConfig, DPOTrainer, splitImplicitPrompt } from "@hearth/trl";
import { dataPath, FIXTURES, flag } from "./lib/paths.ts";
import { TrimmedVocab } from "./lib/vocab.ts";

const steps = flag("steps", 100);
const nTrain = flag("train", 1600);
const nHeld = flag("heldout", 300);
const out = flag("out", "/tmp/hearth-dpo-hh");
rmSync(out, { recursive: true, force: true }); // a fresh trainer_log.jsonl
const promptLen = 8;
const answerLen = 12;

const file =
  dataPath("datasets/preference/hh-rlhf-harmless-base-test.jsonl.gz") ??
  join(FIXTURES, "data/datasets/preference/hh-rlhf-harmless-base-test-slice.jsonl.gz");
const rows = gunzipSync(readFileSync(file))
  .toString("utf8")
  .split("\n")
  .filter(Boolean)
  .map((l) => JSON.parse(l) as { chosen: string; rejected: string })
  .map((r) => splitImplicitPrompt(r.chosen, r.rejected))
  .filter((r) => r.chosen.trim() !== r.rejected.trim());
const tok = await AutoTokenizer.fromPretrained(join(FIXTURES, "data/tokenizers/gpt2"), {
  fileNames: { "vocab.json": "encoder.json.gz", "merges.txt": "vocab.bpe.gz" },
});
const enc = rows.map((r) => ({
  p: tok.encode(r.prompt).slice(-promptLen),
  c: tok.encode(r.chosen).slice(0, answerLen),
  x: tok.encode(r.rejected).slice(0, answerLen),
}));
const vocab = new TrimmedVocab(
  enc.flatMap((e) => [...e.p, ...e.c, ...e.x]),
  384,
);
const eos = vocab.size; // an end-of-answer id after the trimmed vocabulary
const records = enc.map((e) => {
  const p = vocab.encode(e.p);
  return {
    prompt_input_ids: p,
    chosen_input_ids: [...p, ...vocab.encode(e.c), eos],
    rejected_input_ids: [...p, ...vocab.encode(e.x), eos],
  };
});
const held = records.slice(0, nHeld);
const train = records.slice(nHeld, nHeld + nTrain);
console.log(`${file}\n${rows.length} usable pairs → ${train.length} train, ${held.length} held out`);

manualSeed(0);
const config = new GPT2Config({
  vocab_size: vocab.size + 1,
  n_positions: promptLen + answerLen + 1,
  n_embd: 32,
  n_layer: 2,
  n_head: 4,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
});
const model = new GPT2LMHeadModel(config);
const nParams = model.parameters().reduce((s, p) => s + p.size, 0);
console.log(`policy: GPT-2, 2 layers, n_embd 32, ${nParams.toLocaleString("en-US")} parameters`);

const trainer = new DPOTrainer({
  model,
  args: new DPOConfig({
    outputDir: out,
    maxSteps: steps,
    perDeviceTrainBatchSize: 16,
    perDeviceEvalBatchSize: 100,
    learningRate: 3e-3,
    warmupSteps: 10,
    lrSchedulerType: "cosine",
    beta: 0.1,
    precomputeRefLogProbs: true,
    loggingSteps: 20,
    evalStrategy: "steps",
    evalSteps: Math.max(1, Math.floor(steps / 2)),
    saveStrategy: "no",
    logToConsole: false,
    disableTqdm: true,
  }),
  trainDataset: train,
  evalDataset: held,
  padTokenId: eos,
});
const t0 = performance.now();
trainer.precomputeReferenceLogps();
const curve: string[] = [];
const before = await trainer.evaluate();
curve.push(
  `step 0: ${(100 * (before["eval_rewards/accuracies"] as number)).toFixed(1)}% (all rewards are 0 at the start: ties count as wrong)`,
);
await trainer.train();
for (const l of trainer.state.logHistory) {
  if (l["eval_rewards/accuracies"] !== undefined && l.step > 0) {
    curve.push(
      `step ${l.step}: held-out reward accuracy ${(100 * l["eval_rewards/accuracies"]).toFixed(1)}%, margin ${(l["eval_rewards/margins"] as number).toFixed(3)}, eval loss ${(l.eval_loss as number).toFixed(4)}`,
    );
  }
  if (l.loss !== undefined) {
    console.log(
      `step ${l.step}: train loss ${l.loss.toFixed(4)}, train reward accuracy ${(100 * (l["rewards/accuracies"] as number)).toFixed(1)}%`,
    );
  }
}
console.log(`\nheld-out reward accuracy over training (${held.length} pairs):\n  ${curve.join("\n  ")}`);
console.log(`\n${steps} steps in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
