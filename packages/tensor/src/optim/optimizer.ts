/**
 * The optimiser base: parameter groups with hyper-parameters, per-parameter state, and
 * PyTorch-shaped `stateDict()`/`loadStateDict()`. Updates run in place on the parameters'
 * memory, in float32 with the same order of float32 roundings as PyTorch's single-tensor path.
 */
import { readNumbers, writeNumbers } from "../access.ts";
import { HearthTensorError } from "../errors.ts";
import type { Tensor } from "../tensor.ts";

/** Per-parameter optimiser state: a step count and float32 buffers. */
export type ParamState = Record<string, Float32Array | number>;

/** A group of parameters sharing hyper-parameters. */
export interface ParamGroup<H> {
  params: Tensor[];
  options: H;
}

/** Serializable optimiser state, shaped like PyTorch's (`state` keyed by parameter index). */
export interface OptimizerState<H> {
  state: Record<number, ParamState>;
  paramGroups: (H & { params: number[] })[];
}

/** Parameters or groups of parameters with their own options. */
export type ParamsInput<H> = Iterable<Tensor> | { params: Iterable<Tensor>; options?: Partial<H> }[];

export abstract class Optimizer<H extends { lr: number }> {
  readonly paramGroups: ParamGroup<H>[];
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<H>, defaults: H) {
    const list = [...(params as Iterable<unknown>)];
    const isGroups =
      list.length > 0 && typeof list[0] === "object" && list[0] !== null && "params" in (list[0] as object);
    const groups = isGroups
      ? (list as { params: Iterable<Tensor>; options?: Partial<H> }[]).map((g) => ({
          params: [...g.params],
          options: { ...defaults, ...g.options },
        }))
      : [{ params: list as Tensor[], options: { ...defaults } }];
    for (const g of groups) {
      for (const p of g.params) {
        if (!p.requiresGrad) {
          throw new HearthTensorError(
            "HEARTH_OPTIM_ARGUMENT",
            `${this.constructor.name}: every parameter must require grad, got ${p.describe()}`,
          );
        }
      }
    }
    if (!(defaults.lr >= 0)) {
      throw new HearthTensorError(
        "HEARTH_OPTIM_ARGUMENT",
        `${this.constructor.name}: argument 'lr' must be >= 0, got ${defaults.lr}`,
      );
    }
    this.paramGroups = groups;
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (!p.grad) continue;
        const values = paramValues(p);
        // Updates only read the gradient, so a float32 one is viewed in place (no copy per step).
        const grad = paramValues(p.grad);
        let st = this.state.get(p);
        if (!st) {
          st = {};
          this.state.set(p, st);
        }
        this.update(values, grad, st, group.options);
        if (p.dtype !== "float32") writeNumbers(p.view_().data, p.dtype, values, p.offset);
        p.storage.bumpVersion();
      }
    }
  }

  /** Updates `param` (float32 values, written back afterwards) from `grad`. */
  protected abstract update(param: Float32Array, grad: Float32Array, state: ParamState, options: H): void;

  /** Drops every parameter's gradient (PyTorch's `set_to_none=True`). */
  zeroGrad(): void {
    for (const g of this.paramGroups) {
      for (const p of g.params) {
        p.grad?.dispose();
        p.grad = null;
      }
    }
  }

  /** A copy of the state: buffers cloned, parameters referred to by their index. */
  stateDict(): OptimizerState<H> {
    const state: Record<number, ParamState> = {};
    const paramGroups: (H & { params: number[] })[] = [];
    let index = 0;
    for (const g of this.paramGroups) {
      const ids: number[] = [];
      for (const p of g.params) {
        const st = this.state.get(p);
        if (st) state[index] = cloneState(st);
        ids.push(index++);
      }
      paramGroups.push({ ...g.options, params: ids });
    }
    return { state, paramGroups };
  }

  /** Restores a state from {@link stateDict}; group sizes and buffer lengths must match. */
  loadStateDict(sd: OptimizerState<H>): void {
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new HearthTensorError(
        "HEARTH_OPTIM_STATE",
        `loadStateDict: the state has ${sd.paramGroups.length} parameter groups, the optimiser has ${this.paramGroups.length}`,
      );
    }
    const params: Tensor[] = [];
    sd.paramGroups.forEach((g, i) => {
      const own = this.paramGroups[i] as ParamGroup<H>;
      if (g.params.length !== own.params.length) {
        throw new HearthTensorError(
          "HEARTH_OPTIM_STATE",
          `loadStateDict: group ${i} of the state has ${g.params.length} parameters, the optimiser's has ${own.params.length}`,
        );
      }
      g.params.forEach((id, j) => {
        params[id] = own.params[j] as Tensor;
      });
    });
    for (const [id, st] of Object.entries(sd.state)) {
      const p = params[Number(id)];
      if (!p)
        throw new HearthTensorError("HEARTH_OPTIM_STATE", `loadStateDict: state refers to unknown parameter ${id}`);
      for (const [k, v] of Object.entries(st)) {
        if (typeof v !== "number" && v.length !== p.size) {
          throw new HearthTensorError(
            "HEARTH_OPTIM_STATE",
            `loadStateDict: state '${k}' of parameter ${id} has ${v.length} values, the parameter ${p.describe()} has ${p.size}`,
          );
        }
      }
    }
    this.state.clear();
    for (const [id, st] of Object.entries(sd.state)) this.state.set(params[Number(id)] as Tensor, cloneState(st));
    sd.paramGroups.forEach((g, i) => {
      const { params: _, ...options } = g;
      (this.paramGroups[i] as ParamGroup<H>).options = { ...(options as unknown as H) };
    });
  }
}

function cloneState(st: ParamState): ParamState {
  const out: ParamState = {};
  for (const [k, v] of Object.entries(st)) out[k] = typeof v === "number" ? v : v.slice();
  return out;
}

/** A tensor's values as float32: its own memory when contiguous float32 (in place), else a copy. */
function paramValues(p: Tensor): Float32Array {
  const v = p.view_();
  if (p.dtype === "float32" && p.isContiguous()) return (v.data as Float32Array).subarray(p.offset, p.offset + p.size);
  return Float32Array.from(readNumbers(v));
}

/** A zero-filled float32 buffer stored in `state[key]` on first use. */
export function buffer(state: ParamState, key: string, n: number): Float32Array {
  let b = state[key];
  if (!(b instanceof Float32Array)) {
    b = new Float32Array(n);
    state[key] = b;
  }
  return b;
}
