/**
 * `GRPOTrainer`: Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath) on
 * Hearth's {@link Trainer}. For each prompt of a batch the policy samples `numGenerations`
 * completions; reward functions score them; each completion's advantage is its reward's
 * z-score within its group, A = (r − mean) / (std + 1e-4), so no value model is needed. The
 * loss per completion token is −(ρ·A − β·KL) with ρ = exp(log π − sg(log π)) (1 on-policy,
 * gradient ∇log π) and the k3 estimator KL = exp(ref − log π) − (ref − log π) − 1 against the
 * reference (the base with adapters disabled, or a frozen `refModel`; none when β = 0),
 * averaged over each completion's tokens and then over completions (trl's GRPO loss).
 * Rollouts are drawn inside the objective, so logging, checkpoints and resume are the
 * Trainer's own.
 */
import { cat, noGrad, type Tensor, tensor } from "@hearth/tensor";
import {
  type Feature,
  type PreTrainedTokenizer,
  type TrainableModel,
  Trainer,
  type TrainerCallback,
  type TrainerControl,
  TrainingArguments,
  type TrainingArgumentsOptions,
} from "@hearth/transformers";
import { tokenLogps } from "../core/logps.ts";
import { ObjectiveModule, promptIndexCollator } from "../core/objective.ts";
import { sampleCompletions } from "../core/sampling.ts";
import { ErrorCodes, fail } from "../errors.ts";

/** Options of {@link GRPOConfig}: the Trainer's plus GRPO's. */
export interface GRPOConfigOptions extends TrainingArgumentsOptions {
  /** Completions sampled per prompt (the group; default 8). */
  numGenerations?: number;
  /** Longest completion in tokens (default 16). */
  maxCompletionLength?: number;
  /** Sampling temperature (default 1). */
  temperature?: number;
  /** KL coefficient against the reference (default 0.04; 0 skips the reference). */
  beta?: number;
  /** Weights of the reward functions (default all 1). */
  rewardWeights?: number[];
}

/** trl's `GRPOConfig`. */
export class GRPOConfig extends TrainingArguments {
  numGenerations: number;
  maxCompletionLength: number;
  temperature: number;
  beta: number;
  rewardWeights: number[] | null;

  constructor(o: GRPOConfigOptions) {
    super(o);
    this.numGenerations = o.numGenerations ?? 8;
    this.maxCompletionLength = o.maxCompletionLength ?? 16;
    this.temperature = o.temperature ?? 1;
    this.beta = o.beta ?? 0.04;
    this.rewardWeights = o.rewardWeights ?? null;
    if (!(Number.isInteger(this.numGenerations) && this.numGenerations >= 2)) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `GRPOConfig: 'numGenerations' must be an integer ≥ 2, got ${this.numGenerations}`,
      );
    }
    if (!(this.beta >= 0)) throw fail(ErrorCodes.CONFIG_INVALID, `GRPOConfig: 'beta' must be ≥ 0, got ${this.beta}`);
  }
}

/** What a reward function sees for each completion. */
export interface RewardInput {
  /** The prompt's record as given in the dataset. */
  record: Feature;
  promptIds: number[];
  completionIds: number[];
  /** The decoded completion when the trainer has a tokenizer. */
  completion?: string;
}

/** Scores completions (one number each; higher is better). */
export type RewardFunction = ((inputs: RewardInput[]) => number[]) & { rewardName?: string };

type CausalLM = TrainableModel & {
  forward(input: { inputIds: Tensor; attentionMask?: Tensor }): { logits: Tensor };
  disableAdapter?<T>(fn: () => T): T;
};

/** Constructor options of {@link GRPOTrainer}. */
export interface GRPOTrainerOptions {
  model: CausalLM;
  refModel?: CausalLM;
  args: GRPOConfig;
  rewardFuncs: RewardFunction | RewardFunction[];
  /** Records with `prompt` (a string, needs `tokenizer`) or `prompt_input_ids`. */
  trainDataset: ArrayLike<Feature>;
  tokenizer?: PreTrainedTokenizer;
  eosTokenId?: number | null;
  callbacks?: TrainerCallback[];
}

/** Group-normalised advantages: (r − mean) / (std + 1e-4) within each run of `g` rewards (std unbiased, as torch). */
export function groupAdvantages(rewards: number[], g: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < rewards.length; s += g) {
    const grp = rewards.slice(s, s + g);
    const mean = grp.reduce((a, b) => a + b, 0) / grp.length;
    const std = Math.sqrt(grp.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, grp.length - 1));
    for (const r of grp) out.push((r - mean) / (std + 1e-4));
  }
  return out;
}

/**
 * Trains a causal LM to raise programmatic rewards of its own samples.
 *
 * @example
 * const trainer = new GRPOTrainer({
 *   model, args: new GRPOConfig({ outputDir: "out", maxSteps: 50, numGenerations: 8 }),
 *   rewardFuncs: (xs) => xs.map((x) => (/^a+$/.test(x.completion ?? "") ? 1 : 0)),
 *   trainDataset: [{ prompt: "Say a:" }], tokenizer,
 * });
 * await trainer.train();
 */
export class GRPOTrainer extends Trainer {
  readonly policy: CausalLM;
  readonly objective: ObjectiveModule;

  constructor(o: GRPOTrainerOptions) {
    if (!(o?.args instanceof GRPOConfig))
      throw fail(ErrorCodes.CONFIG_INVALID, "GRPOTrainer: 'args' must be a GRPOConfig");
    const a = o.args;
    const funcs = Array.isArray(o.rewardFuncs) ? o.rewardFuncs : [o.rewardFuncs];
    if (!funcs.length || funcs.some((f) => typeof f !== "function")) {
      throw fail(ErrorCodes.CONFIG_INVALID, "GRPOTrainer: 'rewardFuncs' must be one or more functions");
    }
    const weights = a.rewardWeights ?? funcs.map(() => 1);
    if (weights.length !== funcs.length) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        `GRPOTrainer: ${weights.length} rewardWeights for ${funcs.length} reward functions`,
      );
    }
    const policy = o.model;
    const tok = o.tokenizer ?? null;
    const eos = o.eosTokenId !== undefined ? o.eosTokenId : (tok?.eosTokenId ?? null);
    const reference =
      a.beta === 0
        ? null
        : o.refModel
          ? o.refModel
          : typeof policy.disableAdapter === "function"
            ? "adapter-disabled"
            : null;
    if (a.beta > 0 && !reference) {
      throw fail(ErrorCodes.CONFIG_INVALID, "GRPOTrainer: beta > 0 needs 'refModel' or a PEFT policy (or set beta: 0)");
    }
    if (o.refModel) for (const p of o.refModel.parameters()) p.requiresGrad_(false);
    const records = Array.from(o.trainDataset);
    const features = records.map((r, i) => {
      if (Array.isArray(r.prompt_input_ids))
        return { index: [i], prompt_input_ids: (r.prompt_input_ids as number[]).map(Number) };
      if (typeof r.prompt !== "string" || !tok) {
        throw fail(
          ErrorCodes.BAD_RECORD,
          `GRPOTrainer: record ${i} needs 'prompt_input_ids', or 'prompt' with a tokenizer`,
        );
      }
      return { index: [i], prompt_input_ids: tok.encode(r.prompt) as number[] };
    });
    const g = a.numGenerations;
    const objective = new ObjectiveModule(policy, (batch) => {
      const idx = Array.from(batch.inputIds?.dataSync() ?? [], Number);
      const losses: Tensor[] = [];
      const metrics: Record<string, number> = {};
      const allRewards: number[] = [];
      const perFunc = funcs.map(() => 0);
      let klSum = 0;
      let lenSum = 0;
      for (const i of idx) {
        const f = features[i] as { prompt_input_ids: number[] };
        const prompt = f.prompt_input_ids;
        const completions = sampleCompletions(policy, prompt, g, {
          maxNewTokens: a.maxCompletionLength,
          temperature: a.temperature,
          eosTokenId: eos,
        });
        const inputs: RewardInput[] = completions.map((c) => ({
          record: records[i] as Feature,
          promptIds: prompt,
          completionIds: c,
          ...(tok ? { completion: tok.decode(c, { skipSpecialTokens: true }) } : {}),
        }));
        const rewards = new Array(g).fill(0);
        funcs.forEach((fn, k) => {
          const r = fn(inputs);
          if (r.length !== g)
            throw fail(
              ErrorCodes.CONFIG_INVALID,
              `GRPOTrainer: a reward function returned ${r.length} values for ${g} completions`,
            );
          r.forEach((v, j) => {
            rewards[j] += (weights[k] as number) * v;
          });
          perFunc[k] = (perFunc[k] as number) + r.reduce((s, v) => s + v, 0);
        });
        allRewards.push(...rewards);
        const adv = groupAdvantages(rewards, g);
        // one padded batch of prompt + completion; labels mark the completion tokens
        const len = Math.max(...completions.map((c) => c.length));
        const pad = eos ?? 0;
        const rows = completions.map((c) => [...prompt, ...c, ...new Array(len - c.length).fill(pad)]);
        const labels = completions.map((c) => [
          ...prompt.map(() => -100),
          ...c,
          ...new Array(len - c.length).fill(-100),
        ]);
        const ids = tensor(rows, { dtype: "int64" });
        const mask = tensor(
          completions.map((c) => [...prompt.map(() => 1), ...c.map(() => 1), ...new Array(len - c.length).fill(0)]),
          { dtype: "int64" },
        );
        const { logps, mask: tokMask } = tokenLogps(
          policy.forward({ inputIds: ids, attentionMask: mask }).logits,
          labels,
        );
        const ratio = logps.sub(logps.detach()).exp();
        let perToken = ratio.mul(tensor(adv).unsqueeze(1));
        if (reference) {
          const refLogps = noGrad(() => {
            const run = () =>
              tokenLogps(
                (reference === "adapter-disabled" ? policy : reference).forward({ inputIds: ids, attentionMask: mask })
                  .logits,
                labels,
              ).logps;
            return reference === "adapter-disabled" ? (policy.disableAdapter as <T>(fn: () => T) => T)(run) : run();
          });
          const d = refLogps.sub(logps);
          const kl = d.exp().sub(d).sub(1);
          perToken = perToken.sub(kl.mul(a.beta));
          klSum += noGrad(() => kl.mul(tokMask).sum(-1).div(tokMask.sum(-1)).mean().item());
        }
        const lens = tokMask.sum(-1);
        lenSum += noGrad(() => lens.mean().item());
        losses.push(perToken.mul(tokMask).sum(-1).div(lens).neg());
      }
      const n = allRewards.length;
      const mean = allRewards.reduce((s, v) => s + v, 0) / n;
      metrics.reward = mean;
      metrics.reward_std = Math.sqrt(allRewards.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, n - 1));
      metrics.completion_length = lenSum / idx.length;
      if (reference) metrics.kl = klSum / idx.length;
      funcs.forEach((fn, k) => {
        metrics[`rewards/${fn.rewardName ?? fn.name ?? `reward_${k}`}`] = (perFunc[k] as number) / n;
      });
      return { loss: cat(losses, 0).mean(), metrics };
    });
    super({
      model: objective,
      args: a,
      trainDataset: features,
      dataCollator: promptIndexCollator,
      callbacks: o.callbacks,
    });
    this.policy = policy;
    this.objective = objective;
  }

  /** Adds the rollout metrics averaged since the last log line. */
  override async log(logs: Record<string, number>, control?: TrainerControl): Promise<void> {
    const extra = "loss" in logs ? this.objective.metrics.drain("train") : {};
    return super.log({ ...logs, ...extra }, control);
  }
}
