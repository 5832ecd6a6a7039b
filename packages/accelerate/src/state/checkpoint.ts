/**
 * `saveState`/`loadState`: a training-state folder laid out like accelerate's —
 * `model.safetensors` (`model_1.safetensors`, … for further models), `optimizer.safetensors`
 * (buffers) + `optimizer.json` (steps and hyper-parameters), `scheduler.json`, `scaler.json` and
 * `accelerator.json`. The folder is written under a temporary name and renamed into place, so
 * a crash leaves the previous state intact.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { loadFile, loadModel, saveFile, saveModel, type Tensor, tensor } from "@hearth/tensor";
import type { Accelerator } from "../accelerator.ts";
import type { Transport } from "../distributed/transport.ts";
import { AccelerateError } from "../errors.ts";

const suffix = (i: number) => (i === 0 ? "" : `_${i}`);

interface SavedOptimizer {
  paramGroups: unknown[];
  scalars: Record<string, Record<string, number>>;
}

/** An optimiser's `stateDict()`. */
type OptimizerStateDict = ReturnType<Accelerator["optimizers"][number]["stateDict"]>;

/**
 * Writes the state of `acc`'s prepared objects to `dir` atomically. `optimizerStates`, when
 * given, replaces each optimiser's own `stateDict()` (a sharded optimiser's gathered state).
 */
export async function saveTrainingState(
  dir: string,
  acc: Accelerator,
  optimizerStates?: OptimizerStateDict[],
): Promise<void> {
  const parent = dirname(dir);
  mkdirSync(parent, { recursive: true });
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}-${Date.now()}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    for (const [i, model] of acc.models.entries()) await saveModel(model, join(tmp, `model${suffix(i)}.safetensors`));
    for (const [i, opt] of acc.optimizers.entries()) {
      const sd = optimizerStates?.[i] ?? opt.stateDict();
      const buffers = new Map<string, Tensor>();
      const scalars: SavedOptimizer["scalars"] = {};
      for (const [id, st] of Object.entries(sd.state)) {
        for (const [k, v] of Object.entries(st)) {
          if (v instanceof Float32Array) buffers.set(`state.${id}.${k}`, tensor(v));
          else scalars[id] = { ...scalars[id], [k]: v };
        }
      }
      await saveFile(buffers, join(tmp, `optimizer${suffix(i)}.safetensors`));
      const saved: SavedOptimizer = { paramGroups: sd.paramGroups, scalars };
      writeFileSync(join(tmp, `optimizer${suffix(i)}.json`), JSON.stringify(saved));
    }
    for (const [i, s] of acc.schedulers.entries()) {
      writeFileSync(join(tmp, `scheduler${suffix(i)}.json`), JSON.stringify(s.stateDict()));
    }
    if (acc.scaler) writeFileSync(join(tmp, "scaler.json"), JSON.stringify(acc.scaler.stateDict()));
    writeFileSync(join(tmp, "accelerator.json"), JSON.stringify({ step: acc.step, numProcesses: acc.numProcesses }));
    // swap the complete folder in: old aside, new in, old removed
    let old: string | null = null;
    if (exists(dir)) {
      old = `${tmp}.old`;
      renameSync(dir, old);
    }
    renameSync(tmp, dir);
    if (old) rmSync(old, { recursive: true, force: true });
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    throw error;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

function need(dir: string, name: string): string {
  const p = join(dir, name);
  if (!exists(p)) {
    throw new AccelerateError(
      "HEARTH_ACCELERATE_STATE",
      `loadState: ${p} is missing; the folder does not hold a state for the prepared objects`,
    );
  }
  return p;
}

/** Loads what {@link saveTrainingState} wrote into `acc`'s prepared objects. */
export async function loadTrainingState(dir: string, acc: Accelerator): Promise<void> {
  for (const [i, model] of acc.models.entries()) await loadModel(model, need(dir, `model${suffix(i)}.safetensors`));
  for (const [i, opt] of acc.optimizers.entries()) {
    const saved = JSON.parse(readFileSync(need(dir, `optimizer${suffix(i)}.json`), "utf8")) as SavedOptimizer;
    const buffers = await loadFile(need(dir, `optimizer${suffix(i)}.safetensors`));
    const state: Record<number, Record<string, Float32Array | number>> = {};
    for (const [id, sc] of Object.entries(saved.scalars)) state[Number(id)] = { ...sc };
    for (const [name, t] of buffers) {
      const [, id, key] = name.split(".") as [string, string, string];
      const entry = state[Number(id)] ?? {};
      entry[key] = Float32Array.from(t.dataSync() as Float32Array);
      state[Number(id)] = entry;
    }
    opt.loadStateDict({ state, paramGroups: saved.paramGroups } as never);
  }
  for (const [i, s] of acc.schedulers.entries()) {
    s.loadStateDict(JSON.parse(readFileSync(need(dir, `scheduler${suffix(i)}.json`), "utf8")));
  }
  if (acc.scaler) acc.scaler.loadStateDict(JSON.parse(readFileSync(need(dir, "scaler.json"), "utf8")));
  const meta = JSON.parse(readFileSync(need(dir, "accelerator.json"), "utf8")) as { step: number };
  acc.step = meta.step;
}

/**
 * The whole state of a sharded optimiser on every process: each process contributes the
 * entries it holds (`sd.state`, disjoint between processes) through two all-gathers, one of
 * their layout (JSON bytes, one per float) and one of their buffers.
 */
export async function gatherOptimizerState(sd: OptimizerStateDict, transport: Transport): Promise<OptimizerStateDict> {
  const layout: [number, [string, number, boolean][]][] = [];
  const buffers: Float32Array[] = [];
  for (const [id, st] of Object.entries(sd.state)) {
    const keys: [string, number, boolean][] = [];
    for (const [k, v] of Object.entries(st)) {
      if (v instanceof Float32Array) {
        keys.push([k, v.length, true]);
        buffers.push(v);
      } else keys.push([k, v, false]);
    }
    layout.push([Number(id), keys]);
  }
  const payload = new Float32Array(buffers.reduce((n, b) => n + b.length, 0));
  let off = 0;
  for (const b of buffers) {
    payload.set(b, off);
    off += b.length;
  }
  const layouts = await transport.allGather(Float32Array.from(new TextEncoder().encode(JSON.stringify(layout))));
  const payloads = await transport.allGather(payload);
  const state: OptimizerStateDict["state"] = {};
  layouts.forEach((bytes, r) => {
    const theirs = JSON.parse(new TextDecoder().decode(Uint8Array.from(bytes))) as typeof layout;
    const data = payloads[r] as Float32Array;
    let at = 0;
    for (const [id, keys] of theirs) {
      const entry: Record<string, Float32Array | number> = {};
      for (const [k, v, isBuffer] of keys) {
        if (isBuffer) {
          entry[k] = data.slice(at, at + v);
          at += v;
        } else entry[k] = v;
      }
      if (state[id]) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_DISTRIBUTED",
          `saveState: optimiser state of parameter ${id} is held by more than one process (rank ${r} too); the shards overlap`,
        );
      }
      state[id] = entry;
    }
  });
  return { state, paramGroups: sd.paramGroups };
}
