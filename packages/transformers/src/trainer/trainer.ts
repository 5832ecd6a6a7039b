/**
 * `Trainer`: the training loop of Python's transformers for any model whose `forward(batch)`
 * returns `{ loss }` — batching and shuffling, gradient accumulation, AdamW with weight decay
 * on all weights but biases and norms, gradient clipping, a warm-up schedule, logging (JSONL
 * file and console/progress bar), periodic evaluation with metrics, checkpoints with a limit,
 * exact resumption, and callbacks (early stopping).
 *
 * Determinism: the data order of epoch e is a permutation drawn from (dataSeed, e), and the
 * global generator (dropout) is re-seeded from (seed, e, micro-batch) before every
 * micro-batch, so a run resumed from a checkpoint takes exactly the steps the uninterrupted
 * run takes.
 */
import { appendFile, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { Accelerator, PreparedDataLoader } from "@hearth/accelerate";
import {
  AdamW,
  Generator,
  getConstantSchedule,
  getCosineSchedule,
  getLinearSchedule,
  type LambdaLR,
  LayerNorm,
  type Module,
  manualSeed,
  type NestedList,
  noGrad,
  type Optimizer,
  RMSNorm,
  scope,
  type Tensor,
} from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";
import { ProgressCallback, type TrainerCallback, type TrainerControl, type TrainerState } from "./callbacks.ts";
import {
  CHECKPOINT_PREFIX,
  getLastCheckpoint,
  type LoopState,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
} from "./checkpoint.ts";
import type { Batch, DataCollator, Feature } from "./data-collator.ts";
import type { TrainingArguments } from "./training-args.ts";

/** A dataset the trainer can index: an array, or anything with `length` and `get(i)`/`at(i)`. */
export type TrainerDataset =
  | ArrayLike<Feature>
  | { length: number; get(i: number): Feature }
  | { length: number; at(i: number): Feature };

/** What `computeMetrics` receives: per-example logits and labels of the evaluation set. */
export interface EvalPrediction {
  predictions: NestedList[];
  labelIds: NestedList[];
}

/** The model as the trainer uses it. */
export interface TrainableModel extends Module {
  savePretrained?(dir: string): Promise<void>;
  loadAdapterState?(state: Record<string, Tensor>): void;
}

/** Constructor options of {@link Trainer}. */
export interface TrainerOptions {
  model: TrainableModel;
  args: TrainingArguments;
  trainDataset?: TrainerDataset;
  evalDataset?: TrainerDataset;
  /** Builds batches (default: `dataCollatorWithPadding`-like stacking is not guessed: pass one). */
  dataCollator: DataCollator;
  /** Extra metrics from the evaluation predictions (keys get an `eval_` prefix). */
  computeMetrics?: (p: EvalPrediction) => Record<string, number>;
  callbacks?: TrainerCallback[];
}

/** What `train()` returns. */
export interface TrainOutput {
  globalStep: number;
  trainingLoss: number;
  metrics: Record<string, number>;
}

function accessor(d: TrainerDataset): (i: number) => Feature {
  if (typeof (d as { get?: unknown }).get === "function") return (i) => (d as { get(i: number): Feature }).get(i);
  if (typeof (d as { at?: unknown }).at === "function" && !Array.isArray(d))
    return (i) => (d as { at(i: number): Feature }).at(i);
  return (i) => (d as ArrayLike<Feature>)[i] as Feature;
}

/** A 32-bit seed mixing `parts` (splitmix-style), for per-epoch and per-batch streams. */
function mix(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

/**
 * The training loop.
 *
 * @example
 * const trainer = new Trainer({
 *   model, args: new TrainingArguments({ outputDir: "out", maxSteps: 200, learningRate: 3e-4 }),
 *   trainDataset: train, evalDataset: valid,
 *   dataCollator: dataCollatorForLanguageModeling({ padTokenId: 0 }),
 * });
 * await trainer.train();
 */
export class Trainer {
  readonly model: TrainableModel;
  readonly args: TrainingArguments;
  readonly callbacks: TrainerCallback[];
  state: TrainerState;
  optimizer: Optimizer<{ lr: number }> | null = null;
  scheduler: LambdaLR | null = null;
  /**
   * The loop's Accelerator: mixed precision from `bf16`/`fp16`, gradient accumulation, and the
   * process group when started with `hearth launch` (as Python's `trainer.accelerator`).
   */
  readonly accelerator: Accelerator;
  readonly #o: TrainerOptions;

  constructor(o: TrainerOptions) {
    if (!o?.model) throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer: 'model' is required");
    if (!o.args) throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer: 'args' (TrainingArguments) is required");
    if (typeof o.dataCollator !== "function")
      throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer: 'dataCollator' must be a function");
    this.#o = o;
    this.model = o.model;
    this.args = o.args;
    this.callbacks = [...(o.callbacks ?? [])];
    const a = o.args;
    this.accelerator = new Accelerator({
      mixedPrecision: a.mixedPrecision,
      gradientAccumulationSteps: a.gradientAccumulationSteps,
    });
    if (!a.disableTqdm && process.stderr.isTTY && this.accelerator.isMainProcess)
      this.callbacks.push(new ProgressCallback());
    this.state = {
      globalStep: 0,
      maxSteps: 0,
      epoch: 0,
      numTrainEpochs: 0,
      logHistory: [],
      bestMetric: null,
      bestModelCheckpoint: null,
      statefulCallbacks: {},
    };
  }

  /** Parameter names that get weight decay: all but biases and LayerNorm/RMSNorm parameters (as Python). */
  decayParameterNames(): Set<string> {
    const norms = new Set<string>();
    for (const [prefix, m] of this.model.namedModules()) {
      if (m instanceof LayerNorm || m instanceof RMSNorm) {
        for (const [n] of m.namedParameters(prefix)) norms.add(n);
      }
    }
    return new Set(
      this.model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => !norms.has(n) && !n.includes("bias")),
    );
  }

  #createOptimizer(totalSteps: number): void {
    const a = this.args;
    const decay = this.decayParameterNames();
    const trainable = this.model.namedParameters().filter(([, p]) => p.requiresGrad);
    if (!trainable.length)
      throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer: the model has no trainable parameters");
    const groups = [
      { params: trainable.filter(([n]) => decay.has(n)).map(([, p]) => p), options: { weightDecay: a.weightDecay } },
      { params: trainable.filter(([n]) => !decay.has(n)).map(([, p]) => p), options: { weightDecay: 0 } },
    ];
    this.optimizer = new AdamW(groups, { lr: a.learningRate, betas: [a.adamBeta1, a.adamBeta2], eps: a.adamEpsilon });
    const warmup = a.getWarmupSteps(totalSteps);
    const opt = this.optimizer;
    this.scheduler =
      a.lrSchedulerType === "cosine"
        ? getCosineSchedule(opt, warmup, totalSteps)
        : a.lrSchedulerType === "constant"
          ? getConstantSchedule(opt, 0)
          : a.lrSchedulerType === "constant_with_warmup"
            ? getConstantSchedule(opt, warmup)
            : getLinearSchedule(opt, warmup, totalSteps);
  }

  #control(): TrainerControl {
    return { shouldTrainingStop: false };
  }

  #fire<K extends keyof TrainerCallback>(hook: K, control: TrainerControl, ...rest: unknown[]): void {
    for (const cb of this.callbacks) {
      const fn = cb[hook] as ((...x: unknown[]) => void) | undefined;
      fn?.call(cb, this.args, this.state, control, ...rest);
    }
  }

  /** Appends `logs` to the history, `trainer_log.jsonl` and the console; tells the callbacks. */
  async log(logs: Record<string, number>, control = this.#control()): Promise<void> {
    const entry = { ...logs, epoch: Math.round(this.state.epoch * 1e4) / 1e4, step: this.state.globalStep };
    this.state.logHistory.push(entry);
    if (this.accelerator.isMainProcess) {
      await mkdir(this.args.outputDir, { recursive: true });
      await appendFile(join(this.args.outputDir, "trainer_log.jsonl"), `${JSON.stringify(entry)}\n`);
      const toConsole = this.args.logToConsole ?? !(process.stderr.isTTY && !this.args.disableTqdm);
      if (toConsole) console.log(JSON.stringify(entry));
    }
    this.#fire("onLog", control, entry);
  }

  /**
   * Trains. With `resumeFromCheckpoint` (a checkpoint folder, or true for the newest one in
   * `outputDir`) it restores weights, optimiser, scheduler, data position and callback state,
   * and continues exactly where that run was.
   *
   * The loop runs through {@link accelerator}: mixed precision from `bf16`/`fp16`, gradient
   * accumulation, clipping (after fp16 unscaling), and, under `hearth launch`, data parallel:
   * each process takes every N-th batch of `perDeviceTrainBatchSize` examples (global batch =
   * N × per-device), gradients are averaged, logged losses and metrics are gathered, and the
   * main process writes logs and checkpoints.
   */
  async train(options: { resumeFromCheckpoint?: string | boolean } = {}): Promise<TrainOutput> {
    const a = this.args;
    const acc = this.accelerator;
    const data = this.#o.trainDataset;
    if (!data?.length) throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer.train: 'trainDataset' is missing or empty");
    const n = data.length;
    const get = accessor(data);
    const bs = a.perDeviceTrainBatchSize;
    const globalBatches = a.dataloaderDropLast ? Math.floor(n / bs) : Math.ceil(n / bs);
    if (globalBatches < 1)
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `Trainer.train: ${n} examples make no batch of ${bs} with dataloaderDropLast`,
      );
    const world = acc.numProcesses;
    const batchesPerEpoch = Math.ceil(globalBatches / world); // per process (the last round is filled)
    const updatesPerEpoch = Math.ceil(batchesPerEpoch / a.gradientAccumulationSteps);
    const maxSteps = a.maxSteps > 0 ? a.maxSteps : Math.ceil(a.numTrainEpochs * updatesPerEpoch);
    const numEpochs = a.maxSteps > 0 ? Math.ceil(maxSteps / updatesPerEpoch) : Math.ceil(a.numTrainEpochs);
    this.#createOptimizer(maxSteps);
    const dataSeed = a.dataSeed ?? a.seed;
    // the epoch's batches of example indices, in the order drawn from (dataSeed, epoch)
    const sampler = {
      epoch: 0,
      *[Symbol.iterator](): Iterator<number[]> {
        const order = permutation(n, mix(dataSeed, this.epoch));
        for (let b = 0; b < globalBatches; b++) yield order.slice(b * bs, Math.min(n, (b + 1) * bs));
      },
    };
    acc.freeMemory();
    const [model, optimizer, scheduler, loader] = await acc.prepare(
      this.model,
      this.optimizer as Optimizer<{ lr: number }>,
      this.scheduler as LambdaLR,
      sampler,
    );
    this.state = { ...this.state, globalStep: 0, maxSteps, numTrainEpochs: numEpochs, epoch: 0, logHistory: [] };
    let loop: LoopState = { epochIndex: 0, microInEpoch: 0, lossSinceLog: 0, stepsSinceLog: 0, totalLoss: 0 };
    let resume = options.resumeFromCheckpoint;
    if (resume === true) {
      resume = (await getLastCheckpoint(a.outputDir)) ?? undefined;
      if (!resume)
        throw fail(
          ErrorCodes.TRAINER_CHECKPOINT,
          `Trainer.train: resumeFromCheckpoint is true but ${a.outputDir} holds no checkpoint`,
        );
    }
    if (typeof resume === "string") {
      const restored = await loadCheckpoint(resume, {
        model: this.model,
        optimizer: optimizer.optimizer as Optimizer<{ lr: number }>,
        scheduler: this.scheduler as LambdaLR,
        scaler: acc.scaler,
      });
      this.state = { ...restored.state, maxSteps, numTrainEpochs: numEpochs };
      loop = restored.loop;
      for (const cb of this.callbacks) {
        const saved = cb.name ? this.state.statefulCallbacks[cb.name] : undefined;
        if (saved && cb.loadStateDict) cb.loadStateDict(saved);
      }
    }
    const control = this.#control();
    this.model.train();
    this.#fire("onTrainBegin", control);
    const params = this.model.parameters().filter((p) => p.requiresGrad);
    const G = a.gradientAccumulationSteps;
    let gradNorm = 0;
    outer: for (let e = loop.epochIndex; e < numEpochs; e++) {
      sampler.epoch = e;
      const skip = e === loop.epochIndex ? loop.microInEpoch : 0;
      acc.step = skip; // micro-batches of the current accumulation window already taken
      let micro = -1;
      for (const idx of loader) {
        if (++micro < skip) continue;
        manualSeed(world > 1 ? mix(a.seed, e, micro, acc.processIndex) : mix(a.seed, e, micro));
        const batch = this.#o.dataCollator(idx.map(get));
        const lossValue = await acc.accumulate(model, async () => {
          let pending: Promise<void> = Promise.resolve();
          const value = scope(() => {
            const out = model.forward(batch) as { loss?: Tensor };
            if (!out?.loss) {
              throw fail(
                ErrorCodes.TRAINER_BAD_BATCH,
                "Trainer.train: the model returned no 'loss' (does the batch carry 'labels'?)",
              );
            }
            pending = acc.backward(out.loss); // the backward pass runs now; only the all-reduce waits
            return out.loss.item() / G;
          });
          await pending;
          return value;
        });
        disposeBatch(batch);
        loop.lossSinceLog += lossValue;
        loop.totalLoss += lossValue;
        const lastOfEpoch = micro + 1 === batchesPerEpoch;
        if (!acc.syncGradients) continue;
        if (a.maxGradNorm > 0) gradNorm = acc.clipGradNorm(params, a.maxGradNorm);
        const lr = (this.scheduler as LambdaLR).getLastLr()[0] as number;
        await optimizer.step(); // with zeroStage 1 it also all-gathers the parameters
        scheduler.step();
        optimizer.zeroGrad();
        this.state.globalStep++;
        loop.stepsSinceLog++;
        this.state.epoch = e + (micro + 1) / batchesPerEpoch;
        loop.epochIndex = lastOfEpoch ? e + 1 : e;
        loop.microInEpoch = lastOfEpoch ? 0 : micro + 1;
        this.#fire("onStepEnd", control);
        const step = this.state.globalStep;
        if (step % a.loggingSteps === 0 || (a.loggingFirstStep && step === 1)) {
          const [loss] = await acc.reduce([loop.lossSinceLog / loop.stepsSinceLog]);
          await this.log({ loss: loss as number, grad_norm: gradNorm, learning_rate: lr }, control);
          loop.lossSinceLog = 0;
          loop.stepsSinceLog = 0;
        }
        if ((a.evalStrategy === "steps" && step % a.evalSteps === 0) || (a.evalStrategy === "epoch" && lastOfEpoch)) {
          await this.evaluate(undefined, control);
        }
        if ((a.saveStrategy === "steps" && step % a.saveSteps === 0) || (a.saveStrategy === "epoch" && lastOfEpoch)) {
          await this.#save(loop, control);
        }
        if (step >= maxSteps || control.shouldTrainingStop) break outer;
      }
    }
    if (loop.stepsSinceLog > 0) {
      const [loss] = await acc.reduce([loop.lossSinceLog / loop.stepsSinceLog]);
      await this.log(
        {
          loss: loss as number,
          grad_norm: gradNorm,
          learning_rate: (this.scheduler as LambdaLR).getLastLr()[0] as number,
        },
        control,
      );
    }
    const [total] = await acc.reduce([loop.totalLoss]);
    const trainingLoss = (total as number) / Math.max(1, this.state.globalStep);
    const metrics = { train_loss: trainingLoss };
    await this.log(metrics, control);
    if (a.loadBestModelAtEnd && this.state.bestModelCheckpoint) {
      await loadCheckpoint(this.state.bestModelCheckpoint, {
        model: this.model,
        optimizer: optimizer.optimizer as Optimizer<{ lr: number }>,
        scheduler: this.scheduler as LambdaLR,
      });
    }
    this.#fire("onTrainEnd", control);
    return { globalStep: this.state.globalStep, trainingLoss, metrics };
  }

  async #save(loop: LoopState, control: TrainerControl): Promise<void> {
    const a = this.args;
    const dir = join(a.outputDir, `${CHECKPOINT_PREFIX}${this.state.globalStep}`);
    for (const cb of this.callbacks)
      if (cb.name && cb.stateDict) this.state.statefulCallbacks[cb.name] = cb.stateDict();
    const last = [...this.state.logHistory].reverse().find((l) => l[this.#metricKey()] !== undefined);
    const value = last?.[this.#metricKey()];
    if (value !== undefined) {
      const best = this.state.bestMetric;
      if (best === null || (a.greaterIsBetter ? value > best : value < best)) {
        this.state.bestMetric = value;
        this.state.bestModelCheckpoint = dir;
      }
    }
    // replicas are identical, so the main process writes and the others wait for the folder
    if (this.accelerator.isMainProcess) {
      await mkdir(a.outputDir, { recursive: true });
      await saveCheckpoint(dir, {
        model: this.model,
        optimizer: this.optimizer as Optimizer<{ lr: number }>,
        scheduler: this.scheduler as LambdaLR,
        scaler: this.accelerator.scaler,
        state: this.state,
        loop,
        args: a.toJSON(),
        seed: a.seed,
      });
      await this.#rotate();
    }
    await this.accelerator.waitForEveryone();
    this.#fire("onSave", control, dir);
  }

  #metricKey(): string {
    const m = this.args.metricForBestModel;
    return m.startsWith("eval_") ? m : `eval_${m}`;
  }

  /** Deletes the oldest checkpoints beyond `saveTotalLimit` (never the best one). */
  async #rotate(): Promise<void> {
    const limit = this.args.saveTotalLimit;
    if (limit === null) return;
    const all = await listCheckpoints(this.args.outputDir);
    const best = this.state.bestModelCheckpoint;
    const deletable = all.filter((d) => !(this.args.loadBestModelAtEnd && d === best));
    let excess = all.length - limit;
    for (const d of deletable) {
      if (excess <= 0) break;
      if (d === all[all.length - 1]) break;
      await rm(d, { recursive: true, force: true });
      excess--;
    }
  }

  /**
   * Runs the model over `dataset` (default the evaluation set) without gradients and returns
   * `eval_loss` (mean over examples) plus `computeMetrics`' results with an `eval_` prefix.
   * Under data parallel each process evaluates every N-th batch and the losses, logits and
   * labels are gathered (the filler of an uneven last round dropped) before the metrics.
   */
  async evaluate(dataset?: TrainerDataset, control = this.#control()): Promise<Record<string, number>> {
    const data = dataset ?? this.#o.evalDataset;
    if (!data?.length) throw fail(ErrorCodes.TRAINER_BAD_ARGUMENT, "Trainer.evaluate: no evaluation dataset");
    const get = accessor(data);
    const acc = this.accelerator;
    const bs = this.args.perDeviceEvalBatchSize;
    const batches = Array.from({ length: Math.ceil(data.length / bs) }, (_, b) =>
      Array.from({ length: Math.min(bs, data.length - b * bs) }, (_, k) => b * bs + k),
    );
    const loader = new PreparedDataLoader(batches, { rank: acc.processIndex, worldSize: acc.numProcesses });
    const wasTraining = this.model.training;
    this.model.eval();
    let lossSum = 0;
    let count = 0;
    const predictions: NestedList[] = [];
    const labelIds: NestedList[] = [];
    const want = !!this.#o.computeMetrics;
    try {
      for (const idx of loader) {
        const batch = this.#o.dataCollator(idx.map(get));
        let logits: NestedList[] = [];
        let labels: NestedList[] = [];
        let loss = Number.NaN;
        scope(() =>
          noGrad(() => {
            const out = this.model.forward(batch) as { loss?: Tensor; logits?: Tensor };
            if (out.loss) loss = out.loss.item();
            if (want && out.logits) logits = out.logits.tolistSync() as NestedList[];
            if (want && batch.labels) labels = batch.labels.tolistSync() as NestedList[];
          }),
        );
        disposeBatch(batch);
        // [loss · examples, examples] of every process's batch of this round
        for (const row of await this.#gatherRound([[loss * idx.length, idx.length]], loader)) {
          const [l, k] = row as number[];
          if (!Number.isNaN(l as number)) {
            lossSum += l as number;
            count += k as number;
          }
        }
        if (want) {
          predictions.push(...(await this.#gatherRound(logits, loader)));
          labelIds.push(...(await this.#gatherRound(labels, loader)));
        }
      }
    } finally {
      this.model.train(wasTraining);
    }
    const metrics: Record<string, number> = {};
    if (count) metrics.eval_loss = lossSum / count;
    if (this.#o.computeMetrics) {
      for (const [k, v] of Object.entries(this.#o.computeMetrics({ predictions, labelIds }))) {
        metrics[k.startsWith("eval_") ? k : `eval_${k}`] = v;
      }
    }
    await this.log(metrics, control);
    this.#fire("onEvaluate", control, metrics);
    return metrics;
  }

  /**
   * Every process's `rows` of the current evaluation round, in rank order (= dataset order),
   * without the filler rows of ranks that repeated a batch. Rows may be ragged.
   */
  async #gatherRound(rows: NestedList[], loader: PreparedDataLoader<number[]>): Promise<NestedList[]> {
    const acc = this.accelerator;
    if (acc.numProcesses === 1) return rows;
    const parts = await acc.transport.allGather(Float32Array.from(encodeRows(rows)));
    const drop = new Set(loader.duplicateRanks);
    return parts.flatMap((p, r) => (drop.has(r) ? [] : decodeRows(p)));
  }

  /**
   * Saves the model (its `savePretrained`) into `dir` (default `outputDir`); under data
   * parallel the main process writes and every process waits for it.
   */
  async saveModel(dir = this.args.outputDir): Promise<void> {
    if (typeof this.model.savePretrained !== "function") {
      throw fail(
        ErrorCodes.TRAINER_BAD_ARGUMENT,
        `Trainer.saveModel: ${this.model.constructor.name} has no savePretrained`,
      );
    }
    if (this.accelerator.isMainProcess) await this.model.savePretrained(dir);
    await this.accelerator.waitForEveryone();
  }
}

/** A permutation of 0..n−1 drawn from `seed` (Fisher–Yates). */
function permutation(n: number, seed: number): number[] {
  const g = new Generator(seed);
  const p = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(g.random() * (i + 1));
    [p[i], p[j]] = [p[j] as number, p[i] as number];
  }
  return p;
}

/** Rectangular nested-list rows as numbers: count, then per row its rank, dims and values. */
function encodeRows(rows: NestedList[]): number[] {
  const out = [rows.length];
  for (const row of rows) {
    const dims: number[] = [];
    for (let x: unknown = row; Array.isArray(x); x = x[0]) dims.push(x.length);
    out.push(dims.length, ...dims, ...(dims.length ? (row as unknown[]).flat(dims.length) : [row]).map(Number));
  }
  return out;
}

/** The inverse of {@link encodeRows}. */
function decodeRows(buf: Float32Array): NestedList[] {
  const rows: NestedList[] = [];
  let at = 1;
  const build = (dims: number[]): NestedList => {
    if (dims.length === 0) return buf[at++] as number;
    const [d, ...rest] = dims as [number, ...number[]];
    return Array.from({ length: d }, () => build(rest));
  };
  for (let r = 0; r < (buf[0] as number); r++) {
    const k = buf[at++] as number;
    const dims = Array.from(buf.subarray(at, at + k));
    at += k;
    rows.push(build(dims));
  }
  return rows;
}

function disposeBatch(batch: Batch): void {
  for (const t of Object.values(batch)) t?.dispose();
}
