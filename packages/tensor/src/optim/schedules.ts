/**
 * Learning-rate schedules as multipliers of each group's initial lr (PyTorch's `LambdaLR`),
 * with the `transformers` schedule shapes: constant, linear and cosine, each with warm-up.
 */
import { HearthTensorError } from "../errors.ts";
import type { Optimizer } from "./optimizer.ts";

/** Multiplies each group's base lr by `lambda(step)`; call `step()` after `optimizer.step()`. */
export class LambdaLR {
  readonly baseLrs: number[];
  /** Number of `step()` calls so far. */
  lastStep = 0;
  constructor(
    readonly optimizer: Optimizer<{ lr: number }>,
    readonly lambda: (step: number) => number,
  ) {
    this.baseLrs = optimizer.paramGroups.map((g) => g.options.lr);
    this.apply();
  }
  private apply(): void {
    const factor = this.lambda(this.lastStep);
    this.optimizer.paramGroups.forEach((g, i) => {
      g.options.lr = (this.baseLrs[i] as number) * factor;
    });
  }
  /** Advances the schedule one step and sets the new learning rates. */
  step(): void {
    this.lastStep++;
    this.apply();
  }
  /** The learning rates now in effect. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.options.lr);
  }
  stateDict(): { lastStep: number; baseLrs: number[] } {
    return { lastStep: this.lastStep, baseLrs: [...this.baseLrs] };
  }
  loadStateDict(sd: { lastStep: number; baseLrs: number[] }): void {
    if (sd.baseLrs.length !== this.baseLrs.length) {
      throw new HearthTensorError(
        "HEARTH_OPTIM_STATE",
        `LambdaLR.loadStateDict: state has ${sd.baseLrs.length} groups, the optimiser has ${this.baseLrs.length}`,
      );
    }
    this.lastStep = sd.lastStep;
    sd.baseLrs.forEach((v, i) => {
      this.baseLrs[i] = v;
    });
    this.apply();
  }
}

function checkSteps(name: string, warmup: number, total?: number): void {
  if (!Number.isInteger(warmup) || warmup < 0 || (total !== undefined && (!Number.isInteger(total) || total < 0))) {
    throw new HearthTensorError(
      "HEARTH_OPTIM_ARGUMENT",
      `${name}: warm-up and total steps must be non-negative integers, got ${warmup}, ${total}`,
    );
  }
}

const warm = (step: number, warmup: number) => step / Math.max(1, warmup);

/** Constant lr, after an optional linear warm-up from 0. */
export function getConstantSchedule(optimizer: Optimizer<{ lr: number }>, warmupSteps = 0): LambdaLR {
  checkSteps("getConstantSchedule", warmupSteps);
  return new LambdaLR(optimizer, (s) => (s < warmupSteps ? warm(s, warmupSteps) : 1));
}

/** Linear warm-up from 0, then linear decay to 0 at `totalSteps`. */
export function getLinearSchedule(
  optimizer: Optimizer<{ lr: number }>,
  warmupSteps: number,
  totalSteps: number,
): LambdaLR {
  checkSteps("getLinearSchedule", warmupSteps, totalSteps);
  return new LambdaLR(optimizer, (s) =>
    s < warmupSteps ? warm(s, warmupSteps) : Math.max(0, (totalSteps - s) / Math.max(1, totalSteps - warmupSteps)),
  );
}

/** Linear warm-up, then a cosine decay over `numCycles` half-waves (0.5: to 0 at `totalSteps`). */
export function getCosineSchedule(
  optimizer: Optimizer<{ lr: number }>,
  warmupSteps: number,
  totalSteps: number,
  numCycles = 0.5,
): LambdaLR {
  checkSteps("getCosineSchedule", warmupSteps, totalSteps);
  return new LambdaLR(optimizer, (s) => {
    if (s < warmupSteps) return warm(s, warmupSteps);
    const progress = (s - warmupSteps) / Math.max(1, totalSteps - warmupSteps);
    return Math.max(0, 0.5 * (1 + Math.cos(Math.PI * numCycles * 2 * progress)));
  });
}
