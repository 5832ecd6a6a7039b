/**
 * `RewardTrainer`: a scalar-output model (a sequence-classification head with one label)
 * trained on preference pairs with the Bradley–Terry loss, −log σ(r_c − r_r − margin)
 * (`margin` per pair optional, Llama 2's variant), as trl 0.8.6's `RewardTrainer.compute_loss`.
 * Logs `accuracy` (chosen scored above rejected) for training and evaluation lines.
 */
import { noGrad, softplus, type Tensor, tensor } from "@hearth/tensor";
import {
  type Batch,
  type Feature,
  type PreTrainedTokenizer,
  type TrainableModel,
  Trainer,
  type TrainerCallback,
  type TrainerControl,
  type TrainingArguments,
} from "@hearth/transformers";
import { ObjectiveModule } from "../core/objective.ts";
import { ErrorCodes, fail } from "../errors.ts";

/** A pair as the reward trainer needs it. */
export interface RewardFeature {
  input_ids_chosen: number[];
  input_ids_rejected: number[];
  margin?: number;
}

type ScoreModel = TrainableModel & { forward(i: { inputIds: Tensor; attentionMask?: Tensor }): { logits: Tensor } };

/** Pads chosen then rejected rows into one batch `[2B, T]`; `margin` `[B]` when every pair has one. */
export function rewardCollator(o: { padTokenId: number }): (features: Feature[]) => Batch {
  return (features) => {
    const f = features as unknown as RewardFeature[];
    const rows = [...f.map((x) => x.input_ids_chosen), ...f.map((x) => x.input_ids_rejected)];
    const t = Math.max(...rows.map((r) => r.length));
    const batch: Batch = {
      inputIds: tensor(
        rows.map((r) => [...r, ...new Array(t - r.length).fill(o.padTokenId)]),
        { dtype: "int64" },
      ),
      attentionMask: tensor(
        rows.map((r) => [...r.map(() => 1), ...new Array(t - r.length).fill(0)]),
        { dtype: "int64" },
      ),
    };
    if (f.every((x) => typeof x.margin === "number")) batch.margin = tensor(f.map((x) => x.margin as number));
    return batch;
  };
}

/** Bradley–Terry loss and accuracy of scores `[B]`. */
export function bradleyTerryLoss(
  chosen: Tensor,
  rejected: Tensor,
  margin?: Tensor,
): { loss: Tensor; accuracy: number } {
  let diff = chosen.sub(rejected);
  if (margin) diff = diff.sub(margin);
  // −log σ(d) = softplus(−d)
  const loss = softplus(diff.neg()).mean();
  const accuracy = noGrad(() => chosen.gt(rejected).to("float32").mean().item());
  return { loss, accuracy };
}

/** Constructor options of {@link RewardTrainer}. */
export interface RewardTrainerOptions {
  /** Returns `logits` `[N, 1]` (e.g. a `…ForSequenceClassification` with `num_labels` 1). */
  model: ScoreModel;
  args: TrainingArguments;
  /** `{chosen, rejected}` strings (with `tokenizer`) or `{input_ids_chosen, input_ids_rejected}`; optional `margin`. */
  trainDataset: ArrayLike<Feature>;
  evalDataset?: ArrayLike<Feature>;
  tokenizer?: PreTrainedTokenizer;
  maxLength?: number;
  padTokenId?: number;
  callbacks?: TrainerCallback[];
}

/**
 * Trains a reward model on preference pairs.
 *
 * @example
 * const trainer = new RewardTrainer({ model: scorer, args, trainDataset: pairs, tokenizer });
 * await trainer.train(); // logs loss and accuracy
 */
export class RewardTrainer extends Trainer {
  readonly objective: ObjectiveModule;
  constructor(o: RewardTrainerOptions) {
    const tok = o.tokenizer ?? null;
    const max = o.maxLength ?? Number.POSITIVE_INFINITY;
    const prep = (d: ArrayLike<Feature>) =>
      Array.from(d, (r, i): Feature => {
        if (Array.isArray(r.input_ids_chosen) && Array.isArray(r.input_ids_rejected)) return r;
        if (typeof r.chosen !== "string" || typeof r.rejected !== "string") {
          throw fail(
            ErrorCodes.BAD_RECORD,
            `RewardTrainer: record ${i} needs 'chosen'/'rejected' strings or input_ids_*`,
          );
        }
        if (!tok) throw fail(ErrorCodes.CONFIG_INVALID, "RewardTrainer: text records need a 'tokenizer'");
        return {
          input_ids_chosen: (tok.encode(r.chosen) as number[]).slice(0, max),
          input_ids_rejected: (tok.encode(r.rejected) as number[]).slice(0, max),
          ...(typeof r.margin === "number" ? { margin: r.margin } : {}),
        };
      });
    const model = o.model;
    const objective = new ObjectiveModule(model, (batch) => {
      const scores = model.forward({ inputIds: batch.inputIds as Tensor, attentionMask: batch.attentionMask }).logits;
      if (scores.ndim !== 2 || scores.shape[1] !== 1) {
        throw fail(
          ErrorCodes.UNSUPPORTED_MODEL,
          `RewardTrainer: the model must return logits [N, 1], got [${scores.shape}]`,
        );
      }
      const b = (scores.shape[0] as number) / 2;
      const flat = scores.squeeze(1);
      const { loss, accuracy } = bradleyTerryLoss(flat.narrow(0, 0, b), flat.narrow(0, b, b), batch.margin);
      return { loss, metrics: { accuracy } };
    });
    super({
      model: objective,
      args: o.args,
      trainDataset: prep(o.trainDataset),
      evalDataset: o.evalDataset ? prep(o.evalDataset) : undefined,
      dataCollator: rewardCollator({ padTokenId: o.padTokenId ?? tok?.padTokenId ?? tok?.eosTokenId ?? 0 }),
      callbacks: o.callbacks,
    });
    this.objective = objective;
  }

  /** Adds `accuracy` (and `eval_accuracy`) averaged since the last log line. */
  override async log(logs: Record<string, number>, control?: TrainerControl): Promise<void> {
    const mode = "loss" in logs ? "train" : Object.keys(logs).some((k) => k.startsWith("eval_")) ? "eval" : null;
    return super.log({ ...logs, ...(mode ? this.objective.metrics.drain(mode) : {}) }, control);
  }
}
