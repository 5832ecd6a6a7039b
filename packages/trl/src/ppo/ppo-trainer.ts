/**
 * `PPOTrainer`: RLHF with Proximal Policy Optimization (Schulman et al. 2017; Ziegler et al.
 * 2019, as trl's PPO) on Hearth's {@link Trainer}. A rollout samples one completion per prompt,
 * scores it with `rewardFn`, and turns it into per-token rewards: −β·(log π_old − log π_ref)
 * at every completion token plus the score at the last one. A value head (`v_head.summary`, a
 * Linear on the policy's last hidden state, as trl's `AutoModelForCausalLMWithValueHead`) gives
 * V; GAE(γ, λ) gives advantages (whitened over the batch) and returns. Each rollout is then
 * optimised for `ppoEpochs` Trainer steps with the clipped surrogate
 * max(−A·ρ, −A·clip(ρ, 1−ε, 1+ε)) and the clipped value loss ½·max((V−R)², (V_clip−R)²)·vfCoef.
 * The rollout buffer lives in memory: resume from checkpoints taken at rollout boundaries
 * (`saveSteps` a multiple of `ppoEpochs`) for an exact continuation.
 */
import { keep, Linear, Module, maximum, noGrad, type Tensor, tensor } from "@hearth/tensor";
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
import type { RewardInput } from "../grpo/grpo-trainer.ts";

/** Options of {@link PPOConfig}. */
export interface PPOConfigOptions extends TrainingArgumentsOptions {
  /** Optimisation steps per rollout (default 4). */
  ppoEpochs?: number;
  /** ε of the policy ratio clip (default 0.2). */
  cliprange?: number;
  /** Clip of the value update (default 0.2). */
  cliprangeValue?: number;
  /** Weight of the value loss (default 0.1). */
  vfCoef?: number;
  gamma?: number;
  lam?: number;
  /** β of the per-token KL penalty in the reward (default 0.05). */
  klCoef?: number;
  maxNewTokens?: number;
  temperature?: number;
}

/** trl's `PPOConfig` (fixed KL coefficient). */
export class PPOConfig extends TrainingArguments {
  ppoEpochs: number;
  cliprange: number;
  cliprangeValue: number;
  vfCoef: number;
  gamma: number;
  lam: number;
  klCoef: number;
  maxNewTokens: number;
  temperature: number;
  constructor(o: PPOConfigOptions) {
    super(o);
    this.ppoEpochs = o.ppoEpochs ?? 4;
    this.cliprange = o.cliprange ?? 0.2;
    this.cliprangeValue = o.cliprangeValue ?? 0.2;
    this.vfCoef = o.vfCoef ?? 0.1;
    this.gamma = o.gamma ?? 1;
    this.lam = o.lam ?? 0.95;
    this.klCoef = o.klCoef ?? 0.05;
    this.maxNewTokens = o.maxNewTokens ?? 16;
    this.temperature = o.temperature ?? 1;
    if (!(Number.isInteger(this.ppoEpochs) && this.ppoEpochs >= 1)) {
      throw fail(ErrorCodes.CONFIG_INVALID, `PPOConfig: 'ppoEpochs' must be an integer ≥ 1, got ${this.ppoEpochs}`);
    }
  }
}

/** The scalar value head (`v_head.summary`). */
export class ValueHead extends Module {
  readonly summary: Linear;
  constructor(hiddenSize: number) {
    super();
    this.summary = this.registerModule("summary", new Linear(hiddenSize, 1));
  }
  override forward(h: Tensor): Tensor {
    return this.summary.forward(h).squeeze(-1);
  }
}

/**
 * GAE over one sequence of per-token `rewards` and `values` (trailing value 0):
 * δ_t = r_t + γV_{t+1} − V_t, A_t = δ_t + γλA_{t+1}; returns A + V.
 */
export function gae(
  rewards: number[],
  values: number[],
  gamma: number,
  lam: number,
): { advantages: number[]; returns: number[] } {
  const n = rewards.length;
  const adv = new Array(n).fill(0);
  let last = 0;
  for (let t = n - 1; t >= 0; t--) {
    const next = t + 1 < n ? (values[t + 1] as number) : 0;
    const delta = (rewards[t] as number) + gamma * next - (values[t] as number);
    last = delta + gamma * lam * last;
    adv[t] = last;
  }
  return { advantages: adv, returns: adv.map((a, t) => a + (values[t] as number)) };
}

type CausalLM = TrainableModel & {
  forward(input: { inputIds: Tensor; attentionMask?: Tensor; outputHiddenStates?: boolean }): {
    logits: Tensor;
    hiddenStates?: Tensor[];
  };
  disableAdapter?<T>(fn: () => T): T;
};

interface Rollout {
  ids: Tensor;
  mask: Tensor;
  labels: number[][];
  tokMask: Tensor;
  oldLogps: Tensor;
  oldValues: Tensor;
  advantages: Tensor;
  returns: Tensor;
  epochsLeft: number;
  metrics: Record<string, number>;
}

function bufferTensors(r: Rollout): Tensor[] {
  return [r.ids, r.mask, r.tokMask, r.oldLogps, r.oldValues, r.advantages, r.returns];
}

/** Constructor options of {@link PPOTrainer}. */
export interface PPOTrainerOptions {
  model: CausalLM;
  refModel?: CausalLM;
  args: PPOConfig;
  /** Scores whole completions (higher is better). */
  rewardFn: (inputs: RewardInput[]) => number[];
  /** Records with `prompt` (with `tokenizer`) or `prompt_input_ids`. */
  trainDataset: ArrayLike<Feature>;
  tokenizer?: PreTrainedTokenizer;
  eosTokenId?: number | null;
  /** Hidden size for the value head (default the config's n_embd / hidden_size). */
  hiddenSize?: number;
  callbacks?: TrainerCallback[];
}

/**
 * PPO with a value head and a KL-penalised reward.
 *
 * @example
 * const trainer = new PPOTrainer({ model: peft, args: new PPOConfig({ outputDir: "out", maxSteps: 40 }),
 *   rewardFn: (xs) => xs.map((x) => score(x.completion)), trainDataset: prompts, tokenizer });
 * await trainer.train();
 */
export class PPOTrainer extends Trainer {
  readonly policy: CausalLM;
  readonly valueHead: ValueHead;
  readonly objective: ObjectiveModule;

  constructor(o: PPOTrainerOptions) {
    if (!(o?.args instanceof PPOConfig))
      throw fail(ErrorCodes.CONFIG_INVALID, "PPOTrainer: 'args' must be a PPOConfig");
    const a = o.args;
    const policy = o.model;
    const reference = o.refModel ?? (typeof policy.disableAdapter === "function" ? "adapter-disabled" : null);
    if (!reference)
      throw fail(ErrorCodes.CONFIG_INVALID, "PPOTrainer: needs 'refModel' or a PEFT policy (adapters disabled)");
    if (o.refModel) for (const p of o.refModel.parameters()) p.requiresGrad_(false);
    // a PeftModel's `config` is the adapter's; the base model's sits under `.model`
    const p = policy as unknown as { config?: Record<string, unknown>; model?: { config?: Record<string, unknown> } };
    const size = (c?: Record<string, unknown>) => (c?.n_embd ?? c?.hidden_size) as number | undefined;
    const hidden = o.hiddenSize ?? size(p.config) ?? size(p.model?.config);
    if (!hidden) throw fail(ErrorCodes.UNSUPPORTED_MODEL, "PPOTrainer: cannot tell the hidden size; pass 'hiddenSize'");
    const vHead = new ValueHead(hidden);
    const tok = o.tokenizer ?? null;
    const eos = o.eosTokenId !== undefined ? o.eosTokenId : (tok?.eosTokenId ?? null);
    const records = Array.from(o.trainDataset);
    const prompts = records.map((r, i) => {
      if (Array.isArray(r.prompt_input_ids)) return (r.prompt_input_ids as number[]).map(Number);
      if (typeof r.prompt !== "string" || !tok) {
        throw fail(
          ErrorCodes.BAD_RECORD,
          `PPOTrainer: record ${i} needs 'prompt_input_ids', or 'prompt' with a tokenizer`,
        );
      }
      return tok.encode(r.prompt) as number[];
    });
    const run = (model: CausalLM, ids: Tensor, mask: Tensor, labels: number[][]) => {
      const out = model.forward({ inputIds: ids, attentionMask: mask, outputHiddenStates: true });
      const { logps, mask: tokMask } = tokenLogps(out.logits, labels);
      const h = out.hiddenStates?.at(-1);
      return { logps, tokMask, h };
    };
    let buffer: Rollout | null = null;
    const rollout = (idx: number[]): Rollout =>
      noGrad(() => {
        const comps = idx.map(
          (i) =>
            sampleCompletions(policy, prompts[i] as number[], 1, {
              maxNewTokens: a.maxNewTokens,
              temperature: a.temperature,
              eosTokenId: eos,
            })[0] as number[],
        );
        const seqs = idx.map((i, k) => [...(prompts[i] as number[]), ...(comps[k] as number[])]);
        const t = Math.max(...seqs.map((s) => s.length));
        const pad = eos ?? 0;
        const ids = tensor(
          seqs.map((s) => [...s, ...new Array(t - s.length).fill(pad)]),
          { dtype: "int64" },
        );
        const mask = tensor(
          seqs.map((s) => [...s.map(() => 1), ...new Array(t - s.length).fill(0)]),
          { dtype: "int64" },
        );
        const labels = idx.map((i, k) => {
          const p = prompts[i] as number[];
          const c = comps[k] as number[];
          return [...p.map(() => -100), ...c, ...new Array(t - p.length - c.length).fill(-100)];
        });
        const cur = run(policy, ids, mask, labels);
        const refRun = () => run(reference === "adapter-disabled" ? policy : reference, ids, mask, labels).logps;
        const refLogps =
          reference === "adapter-disabled" ? (policy.disableAdapter as <T>(f: () => T) => T)(refRun) : refRun();
        const h = cur.h as Tensor;
        const values = vHead.forward(h.narrow(1, 0, t - 1));
        const scores = o.rewardFn(
          idx.map((i, k) => ({
            record: records[i] as Feature,
            promptIds: prompts[i] as number[],
            completionIds: comps[k] as number[],
            ...(tok ? { completion: tok.decode(comps[k] as number[], { skipSpecialTokens: true }) } : {}),
          })),
        );
        const lp = cur.logps.tolistSync() as number[][];
        const rl = refLogps.tolistSync() as number[][];
        const vl = values.tolistSync() as number[][];
        const m = cur.tokMask.tolistSync() as number[][];
        const adv: number[][] = [];
        const ret: number[][] = [];
        let klSum = 0;
        idx.forEach((_, k) => {
          const pos = (m[k] as number[]).flatMap((v, j) => (v ? [j] : []));
          const kl = pos.map((j) => ((lp[k] as number[])[j] as number) - ((rl[k] as number[])[j] as number));
          klSum += kl.reduce((s, v) => s + v, 0);
          const rewards = kl.map((v) => -a.klCoef * v);
          if (rewards.length) rewards[rewards.length - 1] = (rewards.at(-1) as number) + (scores[k] as number);
          const g = gae(
            rewards,
            pos.map((j) => (vl[k] as number[])[j] as number),
            a.gamma,
            a.lam,
          );
          const rowA = new Array(t - 1).fill(0);
          const rowR = new Array(t - 1).fill(0);
          pos.forEach((j, q) => {
            rowA[j] = g.advantages[q];
            rowR[j] = g.returns[q];
          });
          adv.push(rowA);
          ret.push(rowR);
        });
        // whiten the advantages over the batch's completion tokens (trl's `whiten`)
        const flat = adv.flatMap((r, k) => r.filter((_, j) => (m[k] as number[])[j]));
        const mean = flat.reduce((s, v) => s + v, 0) / flat.length;
        const std = Math.sqrt(flat.reduce((s, v) => s + (v - mean) ** 2, 0) / Math.max(1, flat.length - 1));
        const white = adv.map((r, k) => r.map((v, j) => ((m[k] as number[])[j] ? (v - mean) / (std + 1e-8) : 0)));
        return {
          ids,
          mask,
          labels,
          tokMask: cur.tokMask,
          oldLogps: cur.logps,
          oldValues: values,
          advantages: tensor(white),
          returns: tensor(ret),
          epochsLeft: a.ppoEpochs,
          metrics: {
            "env/reward_mean": scores.reduce((s, v) => s + v, 0) / scores.length,
            "objective/kl": klSum / idx.length,
            "tokens/responses_len_mean": flat.length / idx.length,
          },
        };
      });
    const objective = new ObjectiveModule(
      policy,
      (batch) => {
        const idx = Array.from(batch.inputIds?.dataSync() ?? [], Number);
        if (!buffer || buffer.epochsLeft === 0) {
          // the rollout outlives the Trainer's per-step scope: keep its tensors, free the last one's
          if (buffer) for (const t of bufferTensors(buffer)) t.dispose();
          buffer = rollout(idx);
          for (const t of bufferTensors(buffer)) keep(t);
        }
        const r = buffer;
        r.epochsLeft--;
        const cur = run(policy, r.ids, r.mask, r.labels);
        const n = r.tokMask.sum();
        const ratio = cur.logps.sub(r.oldLogps).exp();
        const pg1 = r.advantages.neg().mul(ratio);
        const pg2 = r.advantages.neg().mul(ratio.clamp(1 - a.cliprange, 1 + a.cliprange));
        const pgLoss = maximum(pg1, pg2).mul(r.tokMask).sum().div(n);
        const t = r.ids.shape[1] as number;
        const v = vHead.forward((cur.h as Tensor).narrow(1, 0, t - 1));
        const vClipped = r.oldValues.add(v.sub(r.oldValues).clamp(-a.cliprangeValue, a.cliprangeValue));
        const vf = maximum(v.sub(r.returns).pow(2), vClipped.sub(r.returns).pow(2))
          .mul(r.tokMask)
          .sum()
          .div(n)
          .mul(0.5);
        const loss = pgLoss.add(vf.mul(a.vfCoef));
        const metrics = noGrad(() => ({
          ...r.metrics,
          "ppo/loss/policy": pgLoss.item(),
          "ppo/loss/value": vf.item(),
          "ppo/policy/clipfrac": pg2.gt(pg1).to("float32").mul(r.tokMask).sum().div(n).item(),
        }));
        return { loss, metrics };
      },
      [vHead],
    );
    super({
      model: objective,
      args: a,
      trainDataset: records.map((_, i) => ({ index: [i] })),
      dataCollator: promptIndexCollator,
      callbacks: o.callbacks,
    });
    this.policy = policy;
    this.valueHead = vHead;
    this.objective = objective;
  }

  /** Adds the rollout and PPO metrics averaged since the last log line. */
  override async log(logs: Record<string, number>, control?: TrainerControl): Promise<void> {
    const extra = "loss" in logs ? this.objective.metrics.drain("train") : {};
    return super.log({ ...logs, ...extra }, control);
  }
}
