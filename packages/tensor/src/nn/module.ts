/**
 * `Module`: PyTorch's `nn.Module` surface — explicit registration of parameters, buffers and
 * submodules; dotted names; `stateDict`/`loadStateDict` (strict, reporting missing and
 * unexpected keys and shape mismatches); `train`/`eval`; `apply`.
 */
import { noGrad } from "../autograd/grad-mode.ts";
import { keep } from "../autograd/scope.ts";
import { HearthTensorError } from "../errors.ts";
import { copy_ } from "../ops/movement/copy.ts";
import { fmt } from "../shape.ts";
import type { Tensor } from "../tensor.ts";

/** Result of {@link Module.loadStateDict}. */
export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/**
 * Base class of every layer and model.
 *
 * @example
 * class MLP extends Module {
 *   fc1 = this.registerModule("fc1", new Linear(4, 16));
 *   fc2 = this.registerModule("fc2", new Linear(16, 3));
 *   forward(x: Tensor) { return this.fc2.forward(relu(this.fc1.forward(x))); }
 * }
 */
export class Module {
  /** Whether the module is in training mode (dropout active). */
  training = true;
  private readonly _parameters = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor | null>();
  private readonly _nonPersistent = new Set<string>();
  private readonly _modules = new Map<string, Module | null>();

  /** Computes the module's output; subclasses override it. */
  // biome-ignore lint/suspicious/noExplicitAny: each module has its own signature
  forward(..._args: any[]): any {
    throw new HearthTensorError("HEARTH_NN_ARGUMENT", `${this.constructor.name}.forward: not implemented`);
  }

  private checkName(kind: string, name: string): void {
    if (name === "" || name.includes(".")) {
      throw new HearthTensorError(
        "HEARTH_NN_ARGUMENT",
        `${kind}: argument 'name' must be non-empty and contain no '.', got '${name}'`,
      );
    }
  }

  /** Registers `t` as a trainable parameter named `name` (sets `requiresGrad`). Returns `t`. */
  registerParameter<T extends Tensor | null>(name: string, t: T): T {
    this.checkName("registerParameter", name);
    if (t && !t.requiresGrad) t.requiresGrad_();
    if (t) keep(t); // a model built inside scope() must outlive it
    this._parameters.set(name, t);
    return t;
  }

  /** Registers a non-trainable tensor (running stats, masks). `persistent: false` keeps it out of `stateDict`. */
  registerBuffer<T extends Tensor | null>(name: string, t: T, persistent = true): T {
    this.checkName("registerBuffer", name);
    if (t) keep(t);
    this._buffers.set(name, t);
    if (persistent) this._nonPersistent.delete(name);
    else this._nonPersistent.add(name);
    return t;
  }

  /** Registers a submodule; its parameters appear under `name.`. Returns `m`. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    this.checkName("registerModule", name);
    this._modules.set(name, m);
    return m;
  }

  /** Direct submodules with their names. */
  *namedChildren(): Generator<[string, Module]> {
    for (const [n, m] of this._modules) if (m) yield [n, m];
  }

  /** This module and all descendants with dotted names ("" for this one). */
  *namedModules(prefix = ""): Generator<[string, Module]> {
    yield [prefix, this];
    for (const [n, m] of this.namedChildren()) yield* m.namedModules(prefix ? `${prefix}.${n}` : n);
  }

  /** Parameters with dotted names; a tensor shared by two modules (tied weights) appears once. */
  namedParameters(prefix = "", recurse = true): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    const mods: Iterable<[string, Module]> = recurse ? this.namedModules(prefix) : [[prefix, this]];
    for (const [mp, m] of mods) {
      for (const [n, t] of m._parameters) {
        if (!t || seen.has(t)) continue;
        seen.add(t);
        out.push([mp ? `${mp}.${n}` : n, t]);
      }
    }
    return out;
  }

  /** All parameters (deduplicated), in registration order. */
  parameters(recurse = true): Tensor[] {
    return this.namedParameters("", recurse).map(([, t]) => t);
  }

  /** Buffers with dotted names. */
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [mp, m] of this.namedModules(prefix)) {
      for (const [n, t] of m._buffers) if (t) out.push([mp ? `${mp}.${n}` : n, t]);
    }
    return out;
  }

  /**
   * Parameters and persistent buffers by dotted name (tied tensors under every name, like
   * PyTorch). The tensors are the module's own, not copies.
   */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [mp, m] of this.namedModules()) {
      const key = (n: string) => (mp ? `${mp}.${n}` : n);
      for (const [n, t] of m._parameters) if (t) out[key(n)] = t;
      for (const [n, t] of m._buffers) if (t && !m._nonPersistent.has(n)) out[key(n)] = t;
    }
    return out;
  }

  /**
   * Copies `state` into the module's tensors in place (converting dtypes). Shape mismatches
   * always throw; with `strict` (default) missing or unexpected keys throw too, listing them.
   */
  loadStateDict(state: Record<string, Tensor>, opts: { strict?: boolean } = {}): LoadStateDictResult {
    const strict = opts.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in state));
    const unexpectedKeys = Object.keys(state).filter((k) => !(k in own));
    const mismatched: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const src = state[k];
      if (src && (src.ndim !== t.ndim || src.shape.some((s, i) => s !== t.shape[i]))) {
        mismatched.push(`${k}: checkpoint ${fmt(src.shape)} vs model ${fmt(t.shape)}`);
      }
    }
    const problems: string[] = [];
    if (mismatched.length) problems.push(`size mismatch for ${mismatched.join("; ")}`);
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(", ")}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(", ")}`);
    if (problems.length) {
      throw new HearthTensorError(
        "HEARTH_NN_STATE_DICT",
        `loadStateDict: ${this.constructor.name} cannot load the state dict: ${problems.join("; ")}`,
      );
    }
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const src = state[k];
        if (src && src !== t) copy_(t, src);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Sets training mode on this module and all descendants. Returns `this`. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Sets evaluation mode (`train(false)`). */
  eval(): this {
    return this.train(false);
  }

  /** Calls `fn` on every descendant and then on this module (post-order, like PyTorch). */
  apply(fn: (m: Module) => void): this {
    for (const [, m] of this.namedChildren()) m.apply(fn);
    fn(this);
    return this;
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }
}
