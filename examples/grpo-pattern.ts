/**
 * GRPO with a programmatic reward: a tiny character-level GPT-2 learns to answer the prompt
 * "digits:" with six digits and "letters:" with six lowercase letters. The reward of a
 * completion is (characters of the wanted class − other characters) among its first six, over
 * six, minus 0.25 per character of length away from six: an exact match of /^[0-9]{6}$/ (or
 * /^[a-z]{6}$/) scores 1, and a policy that ignores the prompt cannot score well on both.
 * The mean reward and the exact-match rate of fresh samples are printed before and after.
 *
 *   node --import tsx examples/grpo-pattern.ts [--steps 120]
 */
import { rmSync } from "node:fs";
import { manualSeed } from "@hearth/tensor";
import { GPT2Config, GPT2LMHeadModel } from "@hearth/transformers";
import { GRPOConfig, GRPOTrainer, type RewardInput, sampleCompletions } from "@hearth/trl";
import { flag } from "./lib/paths.ts";

const steps = flag("steps", 120);
const out = flag("out", "/tmp/hearth-grpo-pattern");
rmSync(out, { recursive: true, force: true }); // a fresh trainer_log.jsonl
const chars = "abcdefghijklmnopqrstuvwxyz0123456789:";
const EOS = chars.length;
const BOS = chars.length + 1;
const encode = (s: string) => [BOS, ...[...s].map((c) => chars.indexOf(c))];
const decode = (ids: number[]) => ids.map((i) => chars[i] ?? "").join("");
const wanted: Record<string, RegExp> = { "digits:": /[0-9]/, "letters:": /[a-z]/ };

/** The programmatic reward (see the header). */
function patternReward(xs: RewardInput[]): number[] {
  return xs.map((x) => {
    const cls = wanted[x.record.prompt as string] as RegExp;
    const text = decode(x.completionIds.filter((i) => i !== EOS));
    const head = [...text.slice(0, 6)];
    const hits = head.filter((c) => cls.test(c)).length;
    return (hits - (head.length - hits)) / 6 - 0.25 * Math.abs(text.length - 6);
  });
}

const prompts = Object.keys(wanted).map((p) => ({ prompt: p, prompt_input_ids: encode(p) }));

manualSeed(0);
const config = new GPT2Config({
  vocab_size: chars.length + 2,
  n_positions: 24,
  n_embd: 32,
  n_layer: 2,
  n_head: 4,
  resid_pdrop: 0,
  embd_pdrop: 0,
  attn_pdrop: 0,
});
const model = new GPT2LMHeadModel(config);

function score(label: string): { reward: number; exact: number } {
  model.eval();
  let reward = 0;
  let exact = 0;
  let n = 0;
  const shown: string[] = [];
  for (const p of prompts) {
    const completions = sampleCompletions(model, p.prompt_input_ids, 32, { maxNewTokens: 8, eosTokenId: EOS });
    const r = patternReward(completions.map((c) => ({ record: p, promptIds: p.prompt_input_ids, completionIds: c })));
    reward += r.reduce((s, v) => s + v, 0);
    exact += r.filter((v) => v === 1).length;
    n += r.length;
    shown.push(
      `${p.prompt} ${completions
        .slice(0, 4)
        .map((c) => JSON.stringify(decode(c.filter((i) => i !== EOS))))
        .join(" ")}`,
    );
  }
  model.train();
  console.log(
    `${label}: mean reward ${(reward / n).toFixed(3)}, exact matches ${((100 * exact) / n).toFixed(1)}%\n  ${shown.join("\n  ")}`,
  );
  return { reward: reward / n, exact: exact / n };
}

const before = score("before training (64 samples)");
const trainer = new GRPOTrainer({
  model,
  args: new GRPOConfig({
    outputDir: out,
    maxSteps: steps,
    perDeviceTrainBatchSize: 2,
    numGenerations: 8,
    maxCompletionLength: 8,
    beta: 0,
    learningRate: 1e-2,
    lrSchedulerType: "constant",
    loggingSteps: 10,
    saveStrategy: "no",
    logToConsole: false,
    disableTqdm: true,
  }),
  rewardFuncs: patternReward,
  trainDataset: prompts,
  eosTokenId: EOS,
});
const t0 = performance.now();
await trainer.train();
const seconds = (performance.now() - t0) / 1000;
console.log("\ntraining reward (mean of the sampled groups, per 10 steps):");
for (const l of trainer.state.logHistory) {
  if (l.reward !== undefined)
    console.log(`  step ${l.step}: reward ${(l.reward as number).toFixed(3)}, loss ${(l.loss as number).toFixed(4)}`);
}
const after = score(`after ${steps} steps (${seconds.toFixed(0)} s)`);
console.log(
  `\nmean reward ${before.reward.toFixed(3)} → ${after.reward.toFixed(3)}; exact ${(100 * before.exact).toFixed(1)}% → ${(100 * after.exact).toFixed(1)}%`,
);
