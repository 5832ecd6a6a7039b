/**
 * `TrainingArguments`: the knobs of {@link Trainer}, with Python's defaults and camelCase names
 * (`toJSON` writes Python's snake_case names into checkpoints).
 */
import { ErrorCodes, fail } from "../errors.ts";

/** Learning-rate schedule shapes (Python's `lr_scheduler_type`). */
export type SchedulerType = "linear" | "cosine" | "constant" | "constant_with_warmup";
/** When to evaluate or save. */
export type IntervalStrategy = "no" | "steps" | "epoch";

/** Options of {@link TrainingArguments}; every field is optional except `outputDir`. */
export interface TrainingArgumentsOptions {
  /** Where checkpoints and `trainer_log.jsonl` go. */
  outputDir: string;
  /** Passes over the training data (default 3); ignored when `maxSteps` > 0. */
  numTrainEpochs?: number;
  /** Optimiser steps to take in total; overrides `numTrainEpochs` when > 0 (default −1). */
  maxSteps?: number;
  perDeviceTrainBatchSize?: number;
  perDeviceEvalBatchSize?: number;
  /** Micro-batches whose gradients are summed before each optimiser step (default 1). */
  gradientAccumulationSteps?: number;
  /** Peak learning rate (default 5e-5). */
  learningRate?: number;
  /** Decoupled weight decay for every weight except biases and norm parameters (default 0). */
  weightDecay?: number;
  adamBeta1?: number;
  adamBeta2?: number;
  adamEpsilon?: number;
  /** Clip the global gradient norm to this (default 1; 0 turns clipping off). */
  maxGradNorm?: number;
  lrSchedulerType?: SchedulerType;
  /** Linear warm-up steps (wins over `warmupRatio`). */
  warmupSteps?: number;
  /** Warm-up as a fraction of the total steps. */
  warmupRatio?: number;
  /** Log every N optimiser steps (default 500). */
  loggingSteps?: number;
  /** Also log after the first step. */
  loggingFirstStep?: boolean;
  evalStrategy?: IntervalStrategy;
  /** Evaluate every N steps (default `loggingSteps`). */
  evalSteps?: number;
  saveStrategy?: IntervalStrategy;
  /** Save a checkpoint every N steps (default 500). */
  saveSteps?: number;
  /** Keep at most this many checkpoints (oldest deleted; the best kept with `loadBestModelAtEnd`). */
  saveTotalLimit?: number | null;
  /** Seed of initialisation-independent randomness: data order and dropout (default 42). */
  seed?: number;
  /** Seed of the data order (default `seed`). */
  dataSeed?: number | null;
  /** Drop the last incomplete batch of each epoch. */
  dataloaderDropLast?: boolean;
  /** Metric for early stopping and the best checkpoint (default "eval_loss"). */
  metricForBestModel?: string;
  /** Whether larger is better for that metric (default false for losses, true otherwise). */
  greaterIsBetter?: boolean;
  /** Restore the best checkpoint's weights at the end of training. */
  loadBestModelAtEnd?: boolean;
  /** Mixed precision: bfloat16 matmuls with float32 master weights, through the Accelerator (default false). */
  bf16?: boolean;
  /** Mixed precision: float16 matmuls with a dynamic loss scaler that skips overflowing steps (default false). */
  fp16?: boolean;
  /** Hide the progress bar (shown only on a terminal anyway). */
  disableTqdm?: boolean;
  /** Print log lines to the console (default: when no progress bar is shown). */
  logToConsole?: boolean;
}

/**
 * Arguments of a training run.
 *
 * @example
 * const args = new TrainingArguments({ outputDir: "out", maxSteps: 100, learningRate: 1e-3, loggingSteps: 10 });
 */
export class TrainingArguments {
  outputDir: string;
  numTrainEpochs = 3;
  maxSteps = -1;
  perDeviceTrainBatchSize = 8;
  perDeviceEvalBatchSize = 8;
  gradientAccumulationSteps = 1;
  learningRate = 5e-5;
  weightDecay = 0;
  adamBeta1 = 0.9;
  adamBeta2 = 0.999;
  adamEpsilon = 1e-8;
  maxGradNorm = 1;
  lrSchedulerType: SchedulerType = "linear";
  warmupSteps = 0;
  warmupRatio = 0;
  loggingSteps = 500;
  loggingFirstStep = false;
  evalStrategy: IntervalStrategy = "no";
  evalSteps: number;
  saveStrategy: IntervalStrategy = "steps";
  saveSteps = 500;
  saveTotalLimit: number | null = null;
  seed = 42;
  dataSeed: number | null = null;
  dataloaderDropLast = false;
  metricForBestModel = "eval_loss";
  greaterIsBetter: boolean;
  loadBestModelAtEnd = false;
  bf16 = false;
  fp16 = false;
  disableTqdm = false;
  logToConsole: boolean | undefined;

  constructor(o: TrainingArgumentsOptions) {
    if (!o || typeof o.outputDir !== "string" || o.outputDir === "") {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: 'outputDir' must be a non-empty path, got ${JSON.stringify(o?.outputDir)}`,
      );
    }
    this.outputDir = o.outputDir;
    for (const [k, v] of Object.entries(o)) if (v !== undefined) (this as Record<string, unknown>)[k] = v;
    this.evalSteps = o.evalSteps ?? this.loggingSteps;
    this.greaterIsBetter = o.greaterIsBetter ?? !/loss/.test(this.metricForBestModel);
    const posInt = (name: keyof this) => {
      const v = this[name] as unknown as number;
      if (!Number.isInteger(v) || v <= 0) {
        throw fail(
          ErrorCodes.TRAINER_BAD_ARGUMENT,
          `TrainingArguments: '${String(name)}' must be a positive integer, got ${v}`,
        );
      }
    };
    for (const k of [
      "perDeviceTrainBatchSize",
      "perDeviceEvalBatchSize",
      "gradientAccumulationSteps",
      "loggingSteps",
      "evalSteps",
      "saveSteps",
    ] as const)
      posInt(k);
    if (!(this.numTrainEpochs > 0) && !(this.maxSteps > 0)) {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: need 'numTrainEpochs' > 0 or 'maxSteps' > 0, got ${this.numTrainEpochs} and ${this.maxSteps}`,
      );
    }
    if (!(this.learningRate >= 0) || !(this.weightDecay >= 0) || !(this.maxGradNorm >= 0)) {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: 'learningRate', 'weightDecay' and 'maxGradNorm' must be >= 0, got ${this.learningRate}, ${this.weightDecay}, ${this.maxGradNorm}`,
      );
    }
    if (!(this.warmupRatio >= 0 && this.warmupRatio <= 1)) {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: 'warmupRatio' must be in [0, 1], got ${this.warmupRatio}`,
      );
    }
    if (!["linear", "cosine", "constant", "constant_with_warmup"].includes(this.lrSchedulerType)) {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: 'lrSchedulerType' must be linear, cosine, constant or constant_with_warmup, got ${this.lrSchedulerType}`,
      );
    }
    if (this.bf16 && this.fp16) {
      throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "TrainingArguments: 'bf16' and 'fp16' cannot both be true");
    }
    if (this.saveTotalLimit !== null && (!Number.isInteger(this.saveTotalLimit) || this.saveTotalLimit < 1)) {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `TrainingArguments: 'saveTotalLimit' must be a positive integer or null, got ${this.saveTotalLimit}`,
      );
    }
  }

  /** The Accelerator's `mixedPrecision` for these arguments. */
  get mixedPrecision(): "no" | "bf16" | "fp16" {
    return this.bf16 ? "bf16" : this.fp16 ? "fp16" : "no";
  }

  /** Warm-up steps for a run of `totalSteps` (`warmupSteps`, else ⌈ratio · total⌉). */
  getWarmupSteps(totalSteps: number): number {
    return this.warmupSteps > 0 ? this.warmupSteps : Math.ceil(totalSteps * this.warmupRatio);
  }

  /** The arguments with Python's snake_case names. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(this)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
    return out;
  }
}
