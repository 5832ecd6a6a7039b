/**
 * `DPOTrainer`: Direct Preference Optimization on Hearth's {@link Trainer}. The policy is
 * wrapped in an {@link ObjectiveModule} whose forward computes the DPO loss of a concatenated
 * chosen+rejected batch, so logging, checkpoints (adapter folders for PEFT models) and exact
 * resumption are the Trainer's own. The reference model is, in order of preference:
 * precomputed log-probs carried in the batch; the policy itself with its adapters disabled
 * (PEFT models, no second copy in memory); an explicit frozen `refModel`.
 */

import { getPeftModel, type PeftConfig } from "@hearth/peft";
import { noGrad, type Tensor, zerosLike } from "@hearth/tensor";
import {
  type Feature,
  type PreTrainedTokenizer,
  type TrainableModel,
  Trainer,
  type TrainerCallback,
  type TrainerControl,
  type TrainerDataset,
  TrainingArguments,
  type TrainingArgumentsOptions,
} from "@hearth/transformers";
import { sequenceLogps } from "../core/logps.ts";
import { ObjectiveModule } from "../core/objective.ts";
import { ErrorCodes, fail } from "../errors.ts";
import { dpoCollator, tokenizePair } from "./dpo-data.ts";
import { type DPOLossType, dpoLoss, resolveDpoOptions } from "./dpo-loss.ts";

/** Options of {@link DPOConfig}: the Trainer's plus DPO's. */
export interface DPOConfigOptions extends TrainingArgumentsOptions {
  /** β, the strength of the implicit KL penalty (default 0.1). */
  beta?: number;
  lossType?: DPOLossType;
  labelSmoothing?: number;
  referenceFree?: boolean;
  /** Longest prompt + answer in tokens (default 512). */
  maxLength?: number;
  /** Longest prompt kept when truncating (default 128). */
  maxPromptLength?: number;
  truncationMode?: "keep_end" | "keep_start";
  /** Compute the reference log-probs once before training instead of every step. */
  precomputeRefLogProbs?: boolean;
}

/** trl's `DPOConfig`. */
export class DPOConfig extends TrainingArguments {
  beta: number;
  lossType: DPOLossType;
  labelSmoothing: number;
  referenceFree: boolean;
  maxLength: number;
  maxPromptLength: number;
  truncationMode: "keep_end" | "keep_start";
  precomputeRefLogProbs: boolean;

  constructor(o: DPOConfigOptions) {
    super(o);
    const r = resolveDpoOptions(o);
    this.beta = r.beta;
    this.lossType = r.lossType;
    this.labelSmoothing = r.labelSmoothing;
    this.referenceFree = r.referenceFree;
    this.maxLength = o.maxLength ?? 512;
    this.maxPromptLength = o.maxPromptLength ?? 128;
    this.truncationMode = o.truncationMode ?? "keep_end";
    this.precomputeRefLogProbs = o.precomputeRefLogProbs ?? false;
  }
}

/** A causal LM as DPO calls it. */
type CausalLM = TrainableModel & {
  forward(input: { inputIds: Tensor; attentionMask?: Tensor }): { logits: Tensor };
  disableAdapter?<T>(fn: () => T): T;
};

/** What one concatenated forward gives. */
export interface ConcatenatedOutput {
  chosenLogps: Tensor;
  rejectedLogps: Tensor;
  chosenLogits: Tensor;
  rejectedLogits: Tensor;
}

/**
 * Runs `model` once over a concatenated batch (`[2B, T]`, chosen rows first) and splits the
 * sequence log-probs and logits into the chosen and rejected halves (trl's
 * `concatenated_forward`).
 */
export function concatenatedForward(
  model: CausalLM,
  batch: { inputIds: Tensor; attentionMask: Tensor; labels: Tensor },
  average = false,
): ConcatenatedOutput {
  const logits = model.forward({ inputIds: batch.inputIds, attentionMask: batch.attentionMask }).logits;
  const labels = batch.labels.tolistSync() as number[][];
  const logps = sequenceLogps(logits, labels, average);
  const b = (batch.inputIds.shape[0] as number) / 2;
  return {
    chosenLogps: logps.narrow(0, 0, b),
    rejectedLogps: logps.narrow(0, b, b),
    chosenLogits: logits.narrow(0, 0, b),
    rejectedLogits: logits.narrow(0, b, b),
  };
}

/** Where the reference log-probs come from. */
export type DPOReference = { model: CausalLM } | "adapter-disabled";

/** Options of {@link dpoStep}. */
export interface DPOStepOptions {
  beta?: number;
  lossType?: DPOLossType;
  labelSmoothing?: number;
  referenceFree?: boolean;
  /** Used when the batch carries no precomputed `referenceChosenLogps`. */
  reference?: DPOReference;
}

/** What {@link dpoStep} returns. */
export interface DPOStepOutput {
  loss: Tensor;
  losses: Tensor;
  chosenRewards: Tensor;
  rejectedRewards: Tensor;
  policyChosenLogps: Tensor;
  policyRejectedLogps: Tensor;
  referenceChosenLogps: Tensor;
  referenceRejectedLogps: Tensor;
  /** trl's logged metrics: rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/*, logits/*. */
  metrics: Record<string, number>;
}

/** The reference model's log-probs for a concatenated batch, without gradients. */
export function referenceLogps(
  policy: CausalLM,
  batch: { inputIds: Tensor; attentionMask: Tensor; labels: Tensor },
  reference: DPOReference,
  average = false,
): { chosen: Tensor; rejected: Tensor } {
  return noGrad(() => {
    let out: ConcatenatedOutput;
    if (reference === "adapter-disabled") {
      if (typeof policy.disableAdapter !== "function") {
        throw fail(
          ErrorCodes.UNSUPPORTED_MODEL,
          `DPO: the reference is the policy with adapters disabled, but ${policy.constructor.name} has no disableAdapter (pass refModel)`,
        );
      }
      out = policy.disableAdapter(() => concatenatedForward(policy, batch, average));
    } else out = concatenatedForward(reference.model, batch, average);
    return { chosen: out.chosenLogps, rejected: out.rejectedLogps };
  });
}

/**
 * The DPO loss and metrics of one concatenated batch (trl 0.8.6's `get_batch_loss_metrics`).
 *
 * @example
 * const out = dpoStep(peftModel, batch, { beta: 0.1, reference: "adapter-disabled" });
 * out.loss.backward();
 */
export function dpoStep(
  policy: CausalLM,
  batch: { inputIds: Tensor; attentionMask: Tensor; labels: Tensor; [k: string]: Tensor | undefined },
  o: DPOStepOptions = {},
): DPOStepOutput {
  const r = resolveDpoOptions(o);
  const average = r.lossType === "ipo";
  const pol = concatenatedForward(policy, batch, average);
  let refC = batch.referenceChosenLogps;
  let refR = batch.referenceRejectedLogps;
  if (!refC || !refR) {
    if (o.reference) {
      const ref = referenceLogps(policy, batch, o.reference, average);
      refC = ref.chosen;
      refR = ref.rejected;
    } else if (r.referenceFree) {
      // no reference at all: rewards are β·π (trl's reference-free rewards with zero reference)
      refC = zerosLike(pol.chosenLogps);
      refR = zerosLike(pol.rejectedLogps);
    } else {
      throw fail(ErrorCodes.CONFIG_INVALID, "dpoStep: no reference log-probs in the batch and no 'reference'");
    }
  }
  const { losses, chosenRewards, rejectedRewards } = dpoLoss(
    {
      policyChosenLogps: pol.chosenLogps,
      policyRejectedLogps: pol.rejectedLogps,
      referenceChosenLogps: refC,
      referenceRejectedLogps: refR,
    },
    r,
  );
  const metrics = noGrad(() => ({
    "rewards/chosen": chosenRewards.mean().item(),
    "rewards/rejected": rejectedRewards.mean().item(),
    "rewards/accuracies": chosenRewards.gt(rejectedRewards).to("float32").mean().item(),
    "rewards/margins": chosenRewards.sub(rejectedRewards).mean().item(),
    "logps/rejected": pol.rejectedLogps.mean().item(),
    "logps/chosen": pol.chosenLogps.mean().item(),
    "logits/rejected": pol.rejectedLogits.mean().item(),
    "logits/chosen": pol.chosenLogits.mean().item(),
  }));
  return {
    loss: losses.mean(),
    losses,
    chosenRewards,
    rejectedRewards,
    policyChosenLogps: pol.chosenLogps,
    policyRejectedLogps: pol.rejectedLogps,
    referenceChosenLogps: refC,
    referenceRejectedLogps: refR,
    metrics,
  };
}

/** Constructor options of {@link DPOTrainer}. */
export interface DPOTrainerOptions {
  model: CausalLM;
  /** A frozen reference; leave out for PEFT policies (adapters disabled) or with precomputed log-probs. */
  refModel?: CausalLM;
  args: DPOConfig;
  /** Records: `{prompt, chosen, rejected}` (strings or messages), `{chosen, rejected}`, or pre-tokenized ids. */
  trainDataset: ArrayLike<Feature>;
  evalDataset?: ArrayLike<Feature>;
  tokenizer?: PreTrainedTokenizer;
  /** Wrap `model` with this adapter config first (trl's `peft_config`). */
  peftConfig?: PeftConfig;
  /** Pad id (default the tokenizer's pad, else its EOS, else 0). */
  padTokenId?: number;
  callbacks?: TrainerCallback[];
}

/**
 * Trains a causal LM on preference pairs with the DPO family of losses.
 *
 * @example
 * const trainer = new DPOTrainer({
 *   model: getPeftModel(base, new LoraConfig({ r: 8 })),
 *   args: new DPOConfig({ outputDir: "out", beta: 0.1, maxSteps: 100 }),
 *   trainDataset: pairs, tokenizer,
 * });
 * await trainer.train();
 */
export class DPOTrainer extends Trainer {
  readonly policy: CausalLM;
  readonly objective: ObjectiveModule;
  readonly trainFeatures: Feature[];
  readonly evalFeatures: Feature[] | undefined;
  readonly #reference: DPOReference | null;

  constructor(o: DPOTrainerOptions) {
    if (!(o?.args instanceof DPOConfig))
      throw fail(ErrorCodes.CONFIG_INVALID, "DPOTrainer: 'args' must be a DPOConfig");
    const policy = (o.peftConfig ? getPeftModel(o.model as never, o.peftConfig) : o.model) as CausalLM;
    const a = o.args;
    const reference: DPOReference | null = o.refModel
      ? { model: o.refModel }
      : typeof policy.disableAdapter === "function"
        ? "adapter-disabled"
        : null;
    if (!reference && !a.precomputeRefLogProbs && !a.referenceFree) {
      throw fail(
        ErrorCodes.CONFIG_INVALID,
        "DPOTrainer: a policy without adapters needs 'refModel' (a frozen copy), or precomputeRefLogProbs, or referenceFree",
      );
    }
    if (o.refModel) for (const p of o.refModel.parameters()) p.requiresGrad_(false);
    const tokOpts = { maxLength: a.maxLength, maxPromptLength: a.maxPromptLength, truncationMode: a.truncationMode };
    const tok = o.tokenizer ?? null;
    const prep = (d: ArrayLike<Feature>) => Array.from(d, (r) => tokenizePair(r, tok, tokOpts) as unknown as Feature);
    const trainFeatures = prep(o.trainDataset);
    const evalFeatures = o.evalDataset ? prep(o.evalDataset) : undefined;
    const padTokenId = o.padTokenId ?? tok?.padTokenId ?? tok?.eosTokenId ?? 0;
    const lossOpts = {
      beta: a.beta,
      lossType: a.lossType,
      labelSmoothing: a.labelSmoothing,
      referenceFree: a.referenceFree,
    };
    const objective = new ObjectiveModule(policy, (batch) => {
      const step = dpoStep(policy, batch as never, { ...lossOpts, reference: reference ?? undefined });
      return { loss: step.loss, metrics: step.metrics };
    });
    super({
      model: objective,
      args: a,
      trainDataset: trainFeatures,
      evalDataset: evalFeatures,
      dataCollator: dpoCollator({ padTokenId }),
      callbacks: o.callbacks,
    });
    this.policy = policy;
    this.objective = objective;
    this.trainFeatures = trainFeatures;
    this.evalFeatures = evalFeatures;
    this.#reference = reference;
    this.#collate = dpoCollator({ padTokenId });
  }
  readonly #collate: ReturnType<typeof dpoCollator>;

  /**
   * Computes the reference log-probs of every train (and eval) pair once and stores them in
   * the features (trl's `precompute_ref_log_probs`); later batches carry them.
   */
  precomputeReferenceLogps(batchSize = this.args.perDeviceEvalBatchSize): void {
    // without a reference model or adapters, the reference is the policy as it is now (trl does
    // the same: the log-probs are taken before the first step)
    const reference = this.#reference ?? { model: this.policy };
    const average = (this.args as DPOConfig).lossType === "ipo";
    const wasTraining = this.policy.training;
    this.policy.eval();
    try {
      for (const feats of [this.trainFeatures, this.evalFeatures ?? []]) {
        for (let i = 0; i < feats.length; i += batchSize) {
          const chunk = feats.slice(i, i + batchSize).map((f) => {
            const { reference_chosen_logps: _c, reference_rejected_logps: _r, ...rest } = f;
            return rest;
          });
          const batch = this.#collate(chunk);
          const ref = referenceLogps(this.policy, batch as never, reference, average);
          const c = ref.chosen.dataSync() as Float32Array;
          const r = ref.rejected.dataSync() as Float32Array;
          chunk.forEach((_, k) => {
            const f = feats[i + k] as Feature;
            f.reference_chosen_logps = c[k];
            f.reference_rejected_logps = r[k];
          });
        }
      }
    } finally {
      this.policy.train(wasTraining);
    }
  }

  override async train(options: { resumeFromCheckpoint?: string | boolean } = {}) {
    const a = this.args as DPOConfig;
    if (a.precomputeRefLogProbs && this.trainFeatures[0]?.reference_chosen_logps === undefined) {
      this.precomputeReferenceLogps();
    }
    return super.train(options);
  }

  /** The Trainer's evaluation plus the DPO metrics (`eval_rewards/accuracies`, …) it logged. */
  override async evaluate(dataset?: TrainerDataset, control?: TrainerControl): Promise<Record<string, number>> {
    const metrics = await super.evaluate(dataset, control);
    const logged = this.state.logHistory.at(-1) ?? {};
    const extra = Object.fromEntries(Object.entries(logged).filter(([k]) => k.startsWith("eval_")));
    return { ...extra, ...metrics };
  }

  /** Adds the DPO metrics averaged since the last log line (with `eval_` on evaluation lines). */
  override async log(logs: Record<string, number>, control?: TrainerControl): Promise<void> {
    const mode = "loss" in logs ? "train" : Object.keys(logs).some((k) => k.startsWith("eval_")) ? "eval" : null;
    const extra = mode ? this.objective.metrics.drain(mode) : {};
    return super.log({ ...logs, ...extra }, control);
  }
}
