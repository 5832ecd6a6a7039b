/**
 * Trainer callbacks (Python's `TrainerCallback`): hooks at the start and end of training, after
 * each optimiser step, after logging, evaluating and saving; `control` lets a hook stop training.
 * `EarlyStoppingCallback` stops when the chosen metric has not improved for `patience`
 * evaluations; `ProgressCallback` draws the progress bar with ETA on a terminal.
 */
import type { TrainingArguments } from "./training-args.ts";

/** Where training is (Python's `TrainerState`, saved as `trainer_state.json`). */
export interface TrainerState {
  globalStep: number;
  maxSteps: number;
  /** Fractional epoch. */
  epoch: number;
  numTrainEpochs: number;
  logHistory: Record<string, number>[];
  bestMetric: number | null;
  bestModelCheckpoint: string | null;
  /** Callback state that must survive a resume (keyed by callback name). */
  statefulCallbacks: Record<string, Record<string, unknown>>;
}

/** Flags a callback sets to steer the loop. */
export interface TrainerControl {
  shouldTrainingStop: boolean;
}

/** Hooks; implement any. */
export interface TrainerCallback {
  /** A name for its saved state in `trainer_state.json` (stateful callbacks only). */
  readonly name?: string;
  onTrainBegin?(args: TrainingArguments, state: TrainerState, control: TrainerControl): void;
  onStepEnd?(args: TrainingArguments, state: TrainerState, control: TrainerControl): void;
  onLog?(args: TrainingArguments, state: TrainerState, control: TrainerControl, logs: Record<string, number>): void;
  onEvaluate?(
    args: TrainingArguments,
    state: TrainerState,
    control: TrainerControl,
    metrics: Record<string, number>,
  ): void;
  onSave?(args: TrainingArguments, state: TrainerState, control: TrainerControl, checkpoint: string): void;
  onTrainEnd?(args: TrainingArguments, state: TrainerState, control: TrainerControl): void;
  /** The state to keep in checkpoints. */
  stateDict?(): Record<string, unknown>;
  loadStateDict?(s: Record<string, unknown>): void;
}

/**
 * Stops training when `args.metricForBestModel` has not improved by more than `threshold` for
 * `patience` evaluations in a row.
 *
 * @example
 * new Trainer({ ..., callbacks: [new EarlyStoppingCallback({ patience: 3 })] });
 */
export class EarlyStoppingCallback implements TrainerCallback {
  readonly name = "EarlyStoppingCallback";
  readonly patience: number;
  readonly threshold: number;
  /** Evaluations since the last improvement. */
  patienceCounter = 0;
  best: number | null = null;

  constructor(o: { patience?: number; threshold?: number } = {}) {
    this.patience = o.patience ?? 1;
    this.threshold = o.threshold ?? 0;
  }

  onEvaluate(
    args: TrainingArguments,
    _s: TrainerState,
    control: TrainerControl,
    metrics: Record<string, number>,
  ): void {
    const key = args.metricForBestModel.startsWith("eval_")
      ? args.metricForBestModel
      : `eval_${args.metricForBestModel}`;
    const value = metrics[key];
    if (value === undefined) return;
    const better =
      this.best === null ||
      (args.greaterIsBetter ? value - this.best > this.threshold : this.best - value > this.threshold);
    if (better) {
      this.best = value;
      this.patienceCounter = 0;
    } else {
      this.patienceCounter++;
    }
    if (this.patienceCounter >= this.patience) control.shouldTrainingStop = true;
  }

  stateDict(): Record<string, unknown> {
    return { patienceCounter: this.patienceCounter, best: this.best };
  }

  loadStateDict(s: Record<string, unknown>): void {
    this.patienceCounter = (s.patienceCounter as number) ?? 0;
    this.best = (s.best as number | null) ?? null;
  }
}

const clock = (s: number) => {
  const t = Math.max(0, Math.round(s));
  const h = Math.floor(t / 3600);
  const mm = String(Math.floor((t % 3600) / 60)).padStart(2, "0");
  const ss = String(t % 60).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
};

/** A one-line progress bar with elapsed time, ETA and rate, redrawn on `stream` (a TTY). */
export class ProgressCallback implements TrainerCallback {
  #start = 0;
  #startStep = 0;
  #last = "";

  constructor(readonly stream: NodeJS.WriteStream = process.stderr) {}

  onTrainBegin(_a: TrainingArguments, state: TrainerState): void {
    this.#start = performance.now();
    this.#startStep = state.globalStep;
  }

  onStepEnd(_a: TrainingArguments, state: TrainerState): void {
    this.stream.write(`\r${this.render(state)}`);
  }

  onLog(_a: TrainingArguments, _s: TrainerState, _c: TrainerControl, logs: Record<string, number>): void {
    if (logs.loss !== undefined) this.#last = ` loss ${logs.loss.toFixed(4)}`;
    if (logs.eval_loss !== undefined) this.#last += ` eval_loss ${logs.eval_loss.toFixed(4)}`;
  }

  onTrainEnd(): void {
    this.stream.write("\n");
  }

  /** The bar for `state`: `37%|███▋      | 37/100 [00:12<00:20, 3.05it/s] loss 2.1`. */
  render(state: TrainerState): string {
    const done = state.globalStep;
    const total = Math.max(1, state.maxSteps);
    const frac = Math.min(1, done / total);
    const width = 24;
    const filled = Math.floor(frac * width);
    const elapsed = (performance.now() - this.#start) / 1000;
    const rate = (done - this.#startStep) / Math.max(elapsed, 1e-9);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const bar = "█".repeat(filled) + " ".repeat(width - filled);
    return `${String(Math.round(frac * 100)).padStart(3)}%|${bar}| ${done}/${total} [${clock(elapsed)}<${clock(eta)}, ${rate.toFixed(2)}it/s]${this.#last}`;
  }
}
