/**
 * `ObjectiveModule`: presents a trainer-specific objective (DPO, GRPO, …) to the Trainer as a
 * model whose `forward(batch)` returns `{ loss }`, while its parameters, state dict, training
 * mode and saved files are exactly the wrapped policy's (same names, same adapter files), so
 * checkpoints and resumption work unchanged through the Trainer's own machinery.
 * Metrics the objective computes are collected per mode and averaged into the next log line.
 */
import { Module, type Tensor, tensor } from "@hearth/tensor";
import type { Batch, Feature, TrainableModel } from "@hearth/transformers";

/** Averages metric values between two log lines (trl's `store_metrics`). */
export class MetricStore {
  readonly #sums = { train: new Map<string, number[]>(), eval: new Map<string, number[]>() };

  /** Records one batch's metrics under `mode`. */
  add(mode: "train" | "eval", metrics: Record<string, number>): void {
    const m = this.#sums[mode];
    for (const [k, v] of Object.entries(metrics)) {
      const list = m.get(k) ?? [];
      list.push(v);
      m.set(k, list);
    }
  }

  /** The means since the last call (keys prefixed `eval_` for eval), then forgets them. */
  drain(mode: "train" | "eval"): Record<string, number> {
    const out: Record<string, number> = {};
    const prefix = mode === "eval" ? "eval_" : "";
    for (const [k, v] of this.#sums[mode]) out[`${prefix}${k}`] = v.reduce((a, b) => a + b, 0) / v.length;
    this.#sums[mode].clear();
    return out;
  }
}

/** The objective: computes the loss (and metrics) of one batch for `policy`. */
export type Objective = (batch: Record<string, Tensor | undefined>) => {
  loss: Tensor;
  metrics?: Record<string, number>;
  logits?: Tensor;
};

/** A module whose parameters are `policy`'s and whose forward is `objective`. */
export class ObjectiveModule extends Module implements TrainableModel {
  readonly policy: Module;
  readonly metrics = new MetricStore();
  readonly #objective: Objective;
  savePretrained?: (dir: string) => Promise<void>;
  loadAdapterState?: (state: Record<string, Tensor>) => void;

  constructor(policy: TrainableModel, objective: Objective, extra: Module[] = []) {
    super();
    this.policy = policy;
    this.#objective = objective;
    this.#extra = extra;
    if (typeof policy.savePretrained === "function")
      this.savePretrained = (d) => policy.savePretrained?.(d) as Promise<void>;
    if (typeof policy.loadAdapterState === "function") this.loadAdapterState = (s) => policy.loadAdapterState?.(s);
    this.training = policy.training;
  }
  readonly #extra: Module[];

  /** The policy's modules under their own names (so parameter names are the policy's). */
  override *namedModules(prefix = ""): Generator<[string, Module]> {
    yield* this.policy.namedModules(prefix);
    for (const [i, m] of this.#extra.entries()) yield* m.namedModules(`${prefix ? `${prefix}.` : ""}extra${i}`);
  }

  override train(mode = true): this {
    this.training = mode;
    this.policy.train(mode);
    for (const m of this.#extra) m.train(mode);
    return this;
  }

  override forward(batch: Record<string, Tensor | undefined>): { loss: Tensor; logits?: Tensor } {
    const out = this.#objective(batch);
    if (out.metrics) this.metrics.add(this.training ? "train" : "eval", out.metrics);
    return { loss: out.loss, ...(out.logits ? { logits: out.logits } : {}) };
  }
}

/**
 * The collator of the online trainers (PPO, GRPO), whose dataset rows are `{ index: [i] }`:
 * a batch is the prompts' indices as `inputIds` `[B]`; the objective rolls out from them.
 */
export function promptIndexCollator(features: Feature[]): Batch {
  const ix = features.map((f) => (f.index as number[])[0] as number);
  return {
    inputIds: tensor(ix, { dtype: "int64" }),
    attentionMask: tensor(
      ix.map(() => 1),
      { dtype: "int64" },
    ),
  };
}
