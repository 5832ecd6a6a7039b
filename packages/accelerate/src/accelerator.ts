/**
 * The Accelerator: one training loop for every device and process count (Hugging Face
 * accelerate's `Accelerator`). It places the model, turns on mixed precision, counts gradient
 * accumulation steps, averages gradients across data-parallel processes, shards the
 * dataloader, and saves/loads the whole training state atomically.
 */
import {
  cat,
  clipGradNorm as clipGrads,
  type DType,
  type Module,
  noGrad,
  Optimizer,
  readNumbers,
  type Tensor,
  tensor,
  autocast as tensorAutocast,
} from "@hearth/tensor";
import { native } from "@hearth/tensor/native";
import { type Batch, PreparedDataLoader } from "./data/dataloader.ts";
import { activateDevice, type Device, resolveDevice } from "./device/devices.ts";
import { defaultTransport } from "./distributed/process-group.ts";
import type { Transport } from "./distributed/transport.ts";
import { float32Values, sameMemory, setGradView, ZeroPartition } from "./distributed/zero.ts";
import { AccelerateError } from "./errors.ts";
import { GradScaler, type GradScalerOptions } from "./precision/grad-scaler.ts";
import { gatherOptimizerState, loadTrainingState, saveTrainingState } from "./state/checkpoint.ts";

/** Mixed-precision modes. */
export type MixedPrecision = "no" | "bf16" | "fp16";

/** Options of {@link Accelerator}. */
export interface AcceleratorOptions {
  /** "no" (float32), "bf16" (bfloat16 matmuls, float32 master weights) or "fp16" (with loss scaling). Default "no". */
  mixedPrecision?: MixedPrecision;
  /** Micro-batches per optimiser step (default 1). */
  gradientAccumulationSteps?: number;
  /** "auto" (default), "cpu", "cuda", "webgpu", or a {@link Device}. */
  device?: string | Device;
  /** Split each batch across processes instead of giving each process whole batches (default false). */
  splitBatches?: boolean;
  /** Collectives to use (default: from the `hearth launch` environment, else single-process). */
  transport?: Transport;
  /** Options of the fp16 loss scaler. */
  gradScaler?: GradScalerOptions;
  /**
   * 1: shard the optimiser across processes (ZeRO stage 1, see `distributed/zero.ts`): each
   * process averages and updates only its share of the parameters, keeps optimiser state for
   * those only, and the updated parameters are all-gathered in `await optimizer.step()` (which
   * must then be awaited). 0 (default): every process runs the whole optimiser.
   */
  zeroStage?: 0 | 1;
}

/** Anything with a learning-rate schedule's surface. */
export interface Scheduler {
  step(): void;
  stateDict(): unknown;
  loadStateDict(state: never): void;
}

// biome-ignore lint/suspicious/noExplicitAny: any optimiser's hyper-parameters
type AnyOptimizer = Optimizer<any>;

/** What `prepare` turns each argument into. */
export type Prepared<T> = T extends Module
  ? T
  : T extends AnyOptimizer
    ? AcceleratedOptimizer
    : T extends Scheduler
      ? AcceleratedScheduler
      : T extends Iterable<infer B extends Batch>
        ? PreparedDataLoader<B>
        : never;

/** An optimiser that steps only on gradient-sync steps and skips fp16 overflow steps. */
export class AcceleratedOptimizer {
  /** Whether the last `step()` was skipped (accumulating, or fp16 overflow). */
  stepWasSkipped = false;
  constructor(
    readonly optimizer: AnyOptimizer,
    private readonly acc: Accelerator,
  ) {}
  get paramGroups() {
    return this.optimizer.paramGroups;
  }
  /**
   * Applies the update when gradients are synchronised (the last micro-batch of a step). The
   * update itself runs before the returned promise is first awaited; with `zeroStage: 1` the
   * promise also all-gathers the parameters other processes updated, so it must be awaited
   * before the next forward pass.
   */
  async step(): Promise<void> {
    if (!this.acc.syncGradients) {
      this.stepWasSkipped = true;
      return;
    }
    const scaler = this.acc.scaler;
    if (scaler) this.stepWasSkipped = !scaler.step(this.params(), () => this.optimizer.step());
    else {
      this.optimizer.step();
      this.stepWasSkipped = false;
    }
    const zero = this.acc.zeroPartition();
    if (zero) {
      zero.pendingGather = true;
      await zero.gatherParameters();
    }
  }
  /** Drops gradients, except between the micro-batches of one accumulated step. */
  zeroGrad(): void {
    if (this.acc.syncGradients) this.optimizer.zeroGrad();
  }
  params(): Tensor[] {
    return this.optimizer.paramGroups.flatMap((g) => g.params);
  }
  stateDict() {
    return this.optimizer.stateDict();
  }
  loadStateDict(sd: ReturnType<AnyOptimizer["stateDict"]>): void {
    this.optimizer.loadStateDict(sd);
  }
}

/** A schedule that advances only when the optimiser really stepped. */
export class AcceleratedScheduler {
  constructor(
    readonly scheduler: Scheduler,
    private readonly optimizers: AcceleratedOptimizer[],
    private readonly acc: Accelerator,
  ) {}
  step(): void {
    if (!this.acc.syncGradients) return;
    if (this.optimizers.some((o) => o.stepWasSkipped)) return;
    this.scheduler.step();
  }
  stateDict(): unknown {
    return this.scheduler.stateDict();
  }
  loadStateDict(state: unknown): void {
    this.scheduler.loadStateDict(state as never);
  }
}

/**
 * @example
 * const acc = new Accelerator({ mixedPrecision: "bf16", gradientAccumulationSteps: 2 });
 * const [model, opt, loader] = await acc.prepare(net, new AdamW(net.parameters()), batches);
 * for (const batch of loader) {
 *   await acc.accumulate(model, async () => {
 *     const loss = crossEntropy(model.forward(batch[0]), batch[1]);
 *     await acc.backward(loss);
 *     opt.step();
 *     opt.zeroGrad();
 *   });
 * }
 */
export class Accelerator {
  readonly mixedPrecision: MixedPrecision;
  readonly gradientAccumulationSteps: number;
  readonly device: Device;
  readonly transport: Transport;
  readonly splitBatches: boolean;
  /** The fp16 loss scaler (null unless mixedPrecision is "fp16"). */
  readonly scaler: GradScaler | null;
  /** Whether this micro-batch ends an optimiser step (gradients are averaged and applied). */
  syncGradients = true;
  /** Micro-batches `accumulate` has seen since the last dataloader ended (Python's `step`). */
  step = 0;
  readonly models: Module[] = [];
  readonly optimizers: AcceleratedOptimizer[] = [];
  readonly schedulers: AcceleratedScheduler[] = [];
  readonly dataloaders: PreparedDataLoader[] = [];
  /** The flat gradient buffer of the all-reduce, reused from step to step. */
  private gradBuffer: Float32Array | null = null;
  /** 0, or 1 for a sharded optimiser (see {@link AcceleratorOptions.zeroStage}). */
  readonly zeroStage: 0 | 1;
  private zero: ZeroPartition | null = null;

  constructor(opts: AcceleratorOptions = {}) {
    this.mixedPrecision = opts.mixedPrecision ?? "no";
    if (!["no", "bf16", "fp16"].includes(this.mixedPrecision)) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `Accelerator: option 'mixedPrecision' must be "no", "bf16" or "fp16", got '${this.mixedPrecision}'`,
      );
    }
    this.gradientAccumulationSteps = opts.gradientAccumulationSteps ?? 1;
    if (!Number.isInteger(this.gradientAccumulationSteps) || this.gradientAccumulationSteps < 1) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `Accelerator: option 'gradientAccumulationSteps' must be an integer >= 1, got ${this.gradientAccumulationSteps}`,
      );
    }
    this.device = resolveDevice(opts.device ?? "auto");
    activateDevice(this.device);
    this.transport = opts.transport ?? defaultTransport();
    this.splitBatches = opts.splitBatches ?? false;
    this.scaler = this.mixedPrecision === "fp16" ? new GradScaler(opts.gradScaler) : null;
    this.zeroStage = opts.zeroStage ?? 0;
    if (this.zeroStage !== 0 && this.zeroStage !== 1) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `Accelerator: option 'zeroStage' must be 0 or 1, got ${this.zeroStage}`,
      );
    }
    if (this.zeroStage === 1 && this.scaler) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        "Accelerator: zeroStage 1 does not support mixedPrecision 'fp16' (its overflow check needs every gradient); use 'bf16' or 'no'",
      );
    }
  }

  /**
   * The ZeRO-1 partition of the trained parameters over the processes (null without
   * `zeroStage: 1` or with one process), made on first use and again when the trained
   * parameters change.
   */
  zeroPartition(): ZeroPartition | null {
    if (this.zeroStage !== 1 || this.numProcesses === 1) return null;
    const params = this.trainedParams();
    if (!this.zero?.matches(params)) this.zero = new ZeroPartition(params, this.transport);
    return this.zero;
  }

  /** Number of data-parallel processes. */
  get numProcesses(): number {
    return this.transport.worldSize;
  }
  /** This process's rank. */
  get processIndex(): number {
    return this.transport.rank;
  }
  /** Whether this is rank 0 (the one that logs and saves). */
  get isMainProcess(): boolean {
    return this.transport.rank === 0;
  }
  /** The dtype matmuls run in under {@link autocast} (null for "no"). */
  get autocastDtype(): DType | null {
    return this.mixedPrecision === "bf16" ? "bfloat16" : this.mixedPrecision === "fp16" ? "float16" : null;
  }

  /**
   * Prepares models (autocast forward, replicas made identical across processes), optimisers,
   * schedulers and dataloaders, returning them in the same order.
   */
  async prepare<T extends unknown[]>(...objects: T): Promise<{ [K in keyof T]: Prepared<T[K]> }> {
    const out: unknown[] = [];
    for (const obj of objects) {
      if (isModule(obj)) out.push(await this.prepareModel(obj));
      else if (obj instanceof Optimizer) {
        const o = new AcceleratedOptimizer(obj, this);
        this.optimizers.push(o);
        out.push(o);
      } else if (isScheduler(obj)) {
        const s = new AcceleratedScheduler(obj, this.optimizers, this);
        this.schedulers.push(s);
        out.push(s);
      } else if (obj !== null && typeof obj === "object" && Symbol.iterator in obj) {
        const dl = new PreparedDataLoader(obj as Iterable<Batch>, {
          rank: this.processIndex,
          worldSize: this.numProcesses,
          splitBatches: this.splitBatches,
        });
        this.dataloaders.push(dl);
        out.push(dl);
      } else {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_PREPARE",
          `Accelerator.prepare: argument ${out.length} is not a model, optimiser, scheduler or iterable dataloader`,
        );
      }
    }
    return out as { [K in keyof T]: Prepared<T[K]> };
  }

  private async prepareModel(model: Module): Promise<Module> {
    // Every replica starts from rank 0's weights (DDP's broadcast at wrap time).
    if (this.numProcesses > 1) {
      for (const t of [...model.parameters(), ...model.namedBuffers().map(([, b]) => b)]) {
        const mine = float32Values(t);
        if (!mine) continue;
        await this.transport.broadcast(mine, 0);
        t.storage.bumpVersion(); // written in place: data cached from the old values is stale
      }
    }
    // wrap the model's own forward, never an earlier wrapper: preparing again (a second
    // training run, another Accelerator) replaces the autocast instead of stacking it
    const holder = model as Module & { [ORIGINAL_FORWARD]?: Module["forward"] };
    const own = holder[ORIGINAL_FORWARD] ?? model.forward.bind(model);
    holder[ORIGINAL_FORWARD] = own;
    const low = this.autocastDtype;
    // biome-ignore lint/suspicious/noExplicitAny: forwards keep their own signatures
    const run = low ? (...args: any[]) => tensorAutocast(low, () => own(...args)) : own;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    model.forward = (...args: any[]) => {
      if (this.zero?.pendingGather) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_PREPARE",
          "model.forward: with zeroStage 1 the parameters are all-gathered by the optimiser's step; await optimizer.step() before the next forward pass",
        );
      }
      return run(...args);
    };
    if (!this.models.includes(model)) this.models.push(model);
    return model;
  }

  /**
   * Forgets every prepared object (models keep their weights and their autocast forward) and
   * resets the accumulation counter, so the same Accelerator can prepare a new run (Python's
   * `free_memory`).
   */
  freeMemory(): void {
    this.models.length = 0;
    this.optimizers.length = 0;
    this.schedulers.length = 0;
    this.dataloaders.length = 0;
    this.step = 0;
    this.syncGradients = true;
  }

  /** Runs `fn` with matmuls in the mixed-precision dtype (a no-op for "no"). */
  autocast<R>(fn: () => R): R {
    return tensorAutocast(this.autocastDtype, fn);
  }

  /**
   * Back-propagates `loss` (divided by the accumulation steps, scaled for fp16) and, on a sync
   * step, averages the gradients over all processes. The backward pass itself runs before the
   * returned promise is first awaited (only the all-reduce is asynchronous), so a caller may
   * start it inside a synchronous `scope` and await the result outside.
   */
  async backward(loss: Tensor): Promise<void> {
    let l = this.gradientAccumulationSteps > 1 ? loss.div(this.gradientAccumulationSteps) : loss;
    if (this.scaler) l = this.scaler.scaleLoss(l);
    l.backward();
    if (this.syncGradients && this.numProcesses > 1) await this.allReduceGradients();
  }

  private trainedParams(): Tensor[] {
    const seen = new Set<Tensor>();
    for (const m of this.models) for (const p of m.parameters()) if (p.requiresGrad) seen.add(p);
    for (const o of this.optimizers) for (const p of o.params()) seen.add(p);
    return [...seen];
  }

  /**
   * Averages every trained parameter's gradient across processes in one flat buffer (kept
   * between steps; the transport's own shared buffer where it offers one, so the all-reduce
   * copies nothing more). Contiguous float32 gradients are copied in as plain memory copies
   * (for a power-of-two process count already times 1/N, exactly, so the reduction is a plain
   * sum), and float32 parameters get their averaged gradients back as views of the buffer, with
   * no copy out: they stay valid until the next backward's all-reduce refills the buffer (a
   * gradient accumulated into in place is already where it has to be).
   */
  private async allReduceGradients(): Promise<void> {
    const params = this.trainedParams();
    const total = params.reduce((n, p) => n + p.size, 0);
    if (this.gradBuffer?.length !== total) {
      this.gradBuffer = this.transport.allReduceBuffer?.(total) ?? new Float32Array(total);
    }
    const flat = this.gradBuffer;
    const n = this.numProcesses;
    // 1/N applied while copying in is exact for a power of two (a scaling of the exponent)
    const pre = (n & (n - 1)) === 0 ? 1 / n : 1;
    let off = 0;
    for (const p of params) {
      const slot = flat.subarray(off, off + p.size);
      off += p.size;
      const own = p.grad ? float32Values(p.grad) : null;
      if (own) scaleInto(slot, own, pre);
      else if (p.grad) {
        slot.set(readNumbers(p.grad.view_()));
        scaleInto(slot, slot, pre);
      } else slot.fill(0);
    }
    const zero = this.zeroPartition();
    if (zero) return await zero.reduceGradients(flat, pre === 1 ? 1 / n : 1);
    await this.transport.allReduceSum(flat, pre === 1 ? 1 / n : 1);
    off = 0;
    noGrad(() => {
      for (const p of params) {
        const values = flat.subarray(off, off + p.size);
        off += p.size;
        if (p.dtype === "float32") {
          setGradView(p, values);
          continue;
        }
        const grad = tensor(values.slice(), { shape: [...p.shape] });
        p.grad?.dispose();
        p.grad = grad.to(p.dtype);
      }
    });
  }

  /**
   * Runs one micro-batch: sets {@link syncGradients} so that gradients are synchronised and the
   * optimiser steps only every `gradientAccumulationSteps` micro-batches (and at the end of a
   * dataloader).
   */
  async accumulate<R>(_model: Module, fn: () => R | Promise<R>): Promise<R> {
    // as accelerate's GradientState: the last batch of a dataloader always syncs and restarts
    // the count, so every epoch accumulates in the same windows
    if (this.dataloaders.some((d) => d.endOfDataloader)) {
      this.step = 0;
      this.syncGradients = true;
    } else {
      this.step++;
      this.syncGradients = this.step % this.gradientAccumulationSteps === 0;
    }
    return await fn();
  }

  /**
   * Clips the joint gradient norm (after undoing the fp16 loss scale). Returns the norm before
   * clipping, or NaN on an accumulation step (gradients are not final yet).
   */
  clipGradNorm(params: Iterable<Tensor>, maxNorm: number, normType = 2): number {
    if (!this.syncGradients) return Number.NaN;
    const list = [...params];
    if (this.scaler && !this.scaler.unscale(list)) return Number.POSITIVE_INFINITY;
    const zero = this.zeroPartition();
    if (!zero) return clipGrads(list, maxNorm, normType);
    // sharded: this process holds only its own gradients; the norm comes from every process's
    if (normType !== 2) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_ARGUMENT",
        `Accelerator.clipGradNorm: with zeroStage 1 only normType 2 is supported, got ${normType}`,
      );
    }
    const total = zero.jointNorm(list);
    const coef = Math.min(1, maxNorm / (total + 1e-6));
    if (coef < 1) {
      for (const p of list) {
        const g = p.grad ? float32Values(p.grad) : null;
        if (g) for (let j = 0; j < g.length; j++) g[j] = Math.fround((g[j] as number) * coef);
      }
    }
    return total;
  }

  /** Every process's `t` concatenated along dim 0 in rank order (float32). */
  async gather(t: Tensor): Promise<Tensor> {
    if (this.numProcesses === 1) return t;
    const parts = await this.transport.allGather(Float32Array.from(readNumbers(t.view_())));
    return this.joinParts(t, parts);
  }

  /**
   * Like {@link gather}, but drops the filler that even sharding adds to the last round of a
   * dataloader, so metrics count each example once. `from` names the dataloader the batch came
   * from (default: the prepared one that just ended).
   */
  async gatherForMetrics(t: Tensor, from?: PreparedDataLoader): Promise<Tensor> {
    if (this.numProcesses === 1) return t;
    const parts = await this.transport.allGather(Float32Array.from(readNumbers(t.view_())));
    const dl = from ?? this.dataloaders.find((d) => d.endOfDataloader);
    const drop = new Set(dl?.duplicateRanks ?? []);
    return this.joinParts(
      t,
      parts.filter((_, r) => !drop.has(r)),
    );
  }

  private joinParts(like: Tensor, parts: Float32Array[]): Tensor {
    const rest = like.shape.slice(1);
    const row = rest.reduce((a, b) => a * b, 1);
    const tensors = parts.map((p) => tensor(p, { shape: [p.length / Math.max(row, 1), ...rest] }));
    const joined = like.ndim === 0 ? tensor(Float32Array.from(parts.flatMap((p) => [...p]))) : cat(tensors, 0);
    return like.dtype === "float32" ? joined : joined.to(like.dtype);
  }

  /**
   * `values` summed or averaged over all processes (Python's `reduce`); the same numbers on
   * every rank. In a single process the values come back unchanged (no float32 rounding).
   */
  async reduce(values: number[], reduction: "sum" | "mean" = "mean"): Promise<number[]> {
    if (this.numProcesses === 1) return [...values];
    const buf = Float32Array.from(values);
    await this.transport.allReduceSum(buf);
    const k = reduction === "mean" ? 1 / this.numProcesses : 1;
    return Array.from(buf, (v) => v * k);
  }

  /** Waits until every process gets here. */
  async waitForEveryone(): Promise<void> {
    await this.transport.barrier();
  }

  /** `console.log` on the main process only. */
  print(...args: unknown[]): void {
    if (this.isMainProcess) console.log(...args);
  }

  /**
   * Saves models, optimisers, schedulers and the fp16 scaler to `dir` (main process writes; all
   * wait). The folder appears complete or not at all: it is written beside and renamed in.
   */
  async saveState(dir: string): Promise<void> {
    // sharded optimisers: every process sends its share, the file holds the whole state
    const zero = this.zeroPartition();
    let states: ReturnType<AcceleratedOptimizer["stateDict"]>[] | undefined;
    if (zero) {
      states = [];
      for (const o of this.optimizers) states.push(await gatherOptimizerState(o.stateDict(), this.transport));
    }
    if (this.isMainProcess) await saveTrainingState(dir, this, states);
    await this.waitForEveryone();
  }

  /**
   * Restores what {@link saveState} wrote into the prepared objects (every process reads; with
   * `zeroStage: 1` each keeps the optimiser state of its own parameters only). The state need
   * not come from the same number of processes or the same zeroStage.
   */
  async loadState(dir: string): Promise<void> {
    await loadTrainingState(dir, this);
    const zero = this.zeroPartition();
    if (!zero) return;
    for (const o of this.optimizers) {
      zero.params.forEach((p, i) => {
        if (!zero.owns(i)) o.optimizer.state.delete(p);
      });
    }
  }

  /** Closes the transport; call at the end of a launched script. */
  async endTraining(): Promise<void> {
    await this.transport.barrier();
    await this.transport.close();
  }
}

/**
 * `dst = src · scale` (a plain copy for scale 1; nothing to do when `src` already is `dst`),
 * with the native addon's vectorised kernel where it is loaded.
 */
function scaleInto(dst: Float32Array, src: Float32Array, scale: number): void {
  if (scale === 1) {
    if (!sameMemory(dst, src)) dst.set(src);
    return;
  }
  if (native && dst.length > 0) {
    native.binary("mul", src, 0, [1], Float32Array.of(scale), 0, [0], dst, [dst.length]);
    return;
  }
  for (let i = 0; i < dst.length; i++) dst[i] = (src[i] as number) * scale;
}

/** Where {@link Accelerator.prepare} keeps a model's own forward when it wraps it. */
const ORIGINAL_FORWARD = Symbol("hearth.accelerate.originalForward");

function isModule(x: unknown): x is Module {
  return typeof x === "object" && x !== null && typeof (x as Module).namedParameters === "function";
}

function isScheduler(x: unknown): x is Scheduler {
  const s = x as Scheduler;
  return typeof x === "object" && x !== null && typeof s.step === "function" && typeof s.stateDict === "function";
}
