/**
 * Trainer checkpoints: `checkpoint-<step>/` holding the model (its `savePretrained` files, or
 * `model.safetensors` of the state dict), `optimizer.safetensors` + `optimizer.json`,
 * `scheduler.json`, `scaler.json` (fp16 only), `rng_state.json`, `trainer_state.json` and `training_args.json`. The folder
 * is written under a temporary name and renamed, so a crash leaves either the complete
 * checkpoint or none.
 */
import { mkdir, readdir, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { GradScaler, GradScalerState } from "@hearth/accelerate";
import {
  copy_,
  type LambdaLR,
  type Module,
  noGrad,
  type Optimizer,
  SAFETENSORS_DTYPE,
  type Tensor,
} from "@hearth/tensor";
import {
  type RawTensorLike,
  type SafetensorsDtype,
  safeOpen,
  saveFile,
  writeFileAtomic,
} from "@hearth/tensor/safetensors";
import { ErrorCodes, fail } from "../errors.ts";
import { openWeights, readTensor } from "../modeling/checkpoint.ts";
import type { TrainerState } from "./callbacks.ts";

export const TRAINER_STATE_NAME = "trainer_state.json";
export const CHECKPOINT_PREFIX = "checkpoint-";

/** Where the data loop stands (enough to continue bit for bit). */
export interface LoopState {
  epochIndex: number;
  /** Micro-batches of `epochIndex` already consumed. */
  microInEpoch: number;
  lossSinceLog: number;
  stepsSinceLog: number;
  totalLoss: number;
}

interface SavableModel extends Module {
  savePretrained?(dir: string): Promise<void>;
  loadAdapterState?(state: Record<string, Tensor>): void;
}

const json = (path: string, value: unknown) =>
  writeFileAtomic(path, (h) => h.writeFile(`${JSON.stringify(value, null, 2)}\n`));

function tensorData(t: Tensor): RawTensorLike {
  const c = t.contiguous();
  return { dtype: SAFETENSORS_DTYPE[c.dtype] as SafetensorsDtype, shape: [...c.shape], data: c.bytes() };
}

/** Writes a complete checkpoint into `dir` (atomically: temporary folder, then rename). */
export async function saveCheckpoint(
  dir: string,
  parts: {
    model: SavableModel;
    optimizer: Optimizer<{ lr: number }>;
    scheduler: LambdaLR;
    /** The fp16 loss scaler, when training in fp16 (saved as `scaler.json`). */
    scaler?: GradScaler | null;
    state: TrainerState;
    loop: LoopState;
    args: unknown;
    seed: number;
  },
): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  const { model } = parts;
  if (typeof model.savePretrained === "function") await model.savePretrained(tmp);
  else {
    await mkdir(tmp, { recursive: true });
    const map = new Map<string, RawTensorLike>();
    for (const [k, t] of Object.entries(model.stateDict())) map.set(k, tensorData(t));
    await saveFile(map, join(tmp, "model.safetensors"), { format: "pt" });
  }
  const opt = parts.optimizer.stateDict();
  const buffers = new Map<string, RawTensorLike>();
  const scalars: Record<string, Record<string, number>> = {};
  for (const [id, st] of Object.entries(opt.state)) {
    for (const [k, v] of Object.entries(st)) {
      if (typeof v === "number") {
        scalars[id] ??= {};
        (scalars[id] as Record<string, number>)[k] = v;
      } else buffers.set(`state.${id}.${k}`, { dtype: "F32", shape: [v.length], data: v });
    }
  }
  await saveFile(buffers, join(tmp, "optimizer.safetensors"), { format: "hearth" });
  await json(join(tmp, "optimizer.json"), { scalars, paramGroups: opt.paramGroups });
  await json(join(tmp, "scheduler.json"), parts.scheduler.stateDict());
  if (parts.scaler) await json(join(tmp, "scaler.json"), parts.scaler.stateDict());
  await json(join(tmp, "rng_state.json"), {
    note: "the global generator is re-seeded from (seed, epoch, micro-batch) before every micro-batch",
    seed: parts.seed,
    loop: parts.loop,
  });
  await json(join(tmp, "training_args.json"), parts.args);
  await json(join(tmp, TRAINER_STATE_NAME), toPython(parts.state));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

/** `trainer_state.json` with Python's key names. */
function toPython(s: TrainerState): Record<string, unknown> {
  return {
    best_metric: s.bestMetric,
    best_model_checkpoint: s.bestModelCheckpoint,
    epoch: s.epoch,
    global_step: s.globalStep,
    log_history: s.logHistory,
    max_steps: s.maxSteps,
    num_train_epochs: s.numTrainEpochs,
    stateful_callbacks: s.statefulCallbacks,
  };
}

function fromPython(j: Record<string, unknown>): TrainerState {
  return {
    bestMetric: (j.best_metric as number | null) ?? null,
    bestModelCheckpoint: (j.best_model_checkpoint as string | null) ?? null,
    epoch: j.epoch as number,
    globalStep: j.global_step as number,
    logHistory: (j.log_history as Record<string, number>[]) ?? [],
    maxSteps: j.max_steps as number,
    numTrainEpochs: j.num_train_epochs as number,
    statefulCallbacks: (j.stateful_callbacks as Record<string, Record<string, unknown>>) ?? {},
  };
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw fail(
      ErrorCodes.TRAINER_CHECKPOINT,
      `resumeFromCheckpoint: cannot read ${path}: ${(error as Error).message}`,
      error,
    );
  }
}

/** Restores model weights, optimiser and scheduler from `dir`; returns the trainer and loop state. */
export async function loadCheckpoint(
  dir: string,
  parts: { model: SavableModel; optimizer: Optimizer<{ lr: number }>; scheduler: LambdaLR; scaler?: GradScaler | null },
): Promise<{ state: TrainerState; loop: LoopState }> {
  if (
    !(await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw fail(ErrorCodes.TRAINER_CHECKPOINT, `resumeFromCheckpoint: ${dir} is not a folder`);
  }
  const state = fromPython(await readJson(join(dir, TRAINER_STATE_NAME)));
  const rng = await readJson(join(dir, "rng_state.json"));
  const { model } = parts;
  const files = await readdir(dir);
  if (files.includes("adapter_model.safetensors") && typeof model.loadAdapterState === "function") {
    const f = await safeOpen(join(dir, "adapter_model.safetensors"));
    const st: Record<string, Tensor> = {};
    for (const k of f.keys()) st[k] = readTensor(f, k);
    model.loadAdapterState(st);
  } else {
    const src = await openWeights(dir).catch((error) => {
      throw fail(ErrorCodes.TRAINER_CHECKPOINT, `resumeFromCheckpoint: ${dir} holds no model weights`, error);
    });
    const keys = new Set(src.keys());
    const own = model.stateDict();
    const trainable = model.namedParameters().filter(([, p]) => p.requiresGrad);
    const absent = trainable.filter(([n]) => !keys.has(n)).map(([n]) => n);
    if (absent.length) {
      throw fail(
        ErrorCodes.TRAINER_CHECKPOINT,
        `resumeFromCheckpoint: ${dir} lacks trainable parameters ${absent.slice(0, 5).join(", ")}`,
      );
    }
    noGrad(() => {
      for (const [n, t] of Object.entries(own)) if (keys.has(n)) copy_(t, readTensor(src, n));
    });
  }
  const optJson = await readJson(join(dir, "optimizer.json"));
  const optFile = await safeOpen(join(dir, "optimizer.safetensors"));
  const optState: Record<number, Record<string, Float32Array | number>> = {};
  for (const [id, sc] of Object.entries((optJson.scalars as Record<string, Record<string, number>>) ?? {})) {
    optState[Number(id)] = { ...sc };
  }
  for (const k of optFile.keys()) {
    const [, id, name] = k.split(".") as [string, string, string];
    const raw = optFile.raw(k);
    const values = new Float32Array(raw.data.byteLength / 4);
    new Uint8Array(values.buffer).set(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength));
    optState[Number(id)] ??= {};
    (optState[Number(id)] as Record<string, Float32Array | number>)[name] = values;
  }
  try {
    parts.optimizer.loadStateDict({
      state: optState,
      paramGroups: optJson.paramGroups as (Record<string, unknown> & { lr: number; params: number[] })[],
    } as Parameters<Optimizer<{ lr: number }>["loadStateDict"]>[0]);
    parts.scheduler.loadStateDict(
      (await readJson(join(dir, "scheduler.json"))) as { lastStep: number; baseLrs: number[] },
    );
  } catch (error) {
    throw fail(
      ErrorCodes.TRAINER_CHECKPOINT,
      `resumeFromCheckpoint: the optimiser state in ${dir} does not fit: ${(error as Error).message}`,
      error,
    );
  }
  if (parts.scaler && files.includes("scaler.json")) {
    parts.scaler.loadStateDict((await readJson(join(dir, "scaler.json"))) as unknown as GradScalerState);
  }
  return { state, loop: rng.loop as LoopState };
}

/** Checkpoint folders of `outputDir`, oldest (lowest step) first. */
export async function listCheckpoints(outputDir: string): Promise<string[]> {
  const names = await readdir(outputDir).catch(() => [] as string[]);
  return names
    .filter((n) => new RegExp(`^${CHECKPOINT_PREFIX}\\d+$`).test(n))
    .sort((a, b) => Number(a.slice(CHECKPOINT_PREFIX.length)) - Number(b.slice(CHECKPOINT_PREFIX.length)))
    .map((n) => join(outputDir, n));
}

/** The newest complete checkpoint of `outputDir`, or null. */
export async function getLastCheckpoint(outputDir: string): Promise<string | null> {
  const all = await listCheckpoints(outputDir);
  for (let i = all.length - 1; i >= 0; i--) {
    const dir = all[i] as string;
    if (
      await stat(join(dir, TRAINER_STATE_NAME)).then(
        () => true,
        () => false,
      )
    )
      return dir;
  }
  return null;
}
