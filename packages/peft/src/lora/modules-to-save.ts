/**
 * `modules_to_save`: a module trained in full for each adapter (a classification head, say).
 * The wrapper keeps the frozen `original_module` and one trainable copy per adapter under
 * `modules_to_save.<adapter>`, PEFT's names.
 */
import { Module, ModuleList, noGrad, type Tensor } from "@hearth/tensor";
import { AdapterDict } from "./adapter-dict.ts";

interface ModuleInternals {
  _parameters: Map<string, Tensor | null>;
  _buffers: Map<string, Tensor | null>;
  _modules: Map<string, Module | null>;
  items?: Module[];
}

/**
 * A deep copy of `m`: same class and fields, fresh parameter and buffer tensors with the same
 * values. Works for the engine's layers and for modules built from them.
 */
export function cloneModule<M extends Module>(m: M): M {
  const src = m as unknown as ModuleInternals & Record<string, unknown>;
  const c = Object.create(Object.getPrototypeOf(m)) as M;
  const dst = c as unknown as ModuleInternals & Record<string, unknown>;
  Object.assign(dst, src);
  dst._parameters = new Map();
  dst._buffers = new Map();
  dst._modules = new Map();
  const swap = new Map<unknown, unknown>();
  noGrad(() => {
    for (const [n, t] of src._parameters) {
      const copy = t ? t.detach().contiguous().clone() : null;
      if (copy) copy.requiresGrad_(t?.requiresGrad ?? true);
      dst._parameters.set(n, copy);
      swap.set(t, copy);
    }
    for (const [n, t] of src._buffers) {
      const copy = t ? t.contiguous().clone() : null;
      dst._buffers.set(n, copy);
      swap.set(t, copy);
    }
  });
  for (const [n, sub] of src._modules) {
    const copy = sub ? cloneModule(sub) : null;
    dst._modules.set(n, copy);
    swap.set(sub, copy);
  }
  for (const k of Object.keys(dst)) {
    if (swap.has(dst[k])) dst[k] = swap.get(dst[k]);
  }
  if (m instanceof ModuleList && src.items) dst.items = src.items.map((x) => swap.get(x) as Module);
  return c;
}

/** PEFT's `ModulesToSaveWrapper`. */
export class ModulesToSaveWrapper extends Module {
  readonly modules_to_save = this.registerModule("modules_to_save", new AdapterDict());
  activeAdapter: string | null = null;
  disabled = false;

  constructor(readonly original_module: Module) {
    super();
    this.registerModule("original_module", original_module);
  }

  /** Adds a trainable copy of the original for `name`. */
  updateLayer(name: string): void {
    const copy = cloneModule(this.original_module);
    for (const p of copy.parameters()) p.requiresGrad_(true);
    this.modules_to_save.setModule(name, copy);
  }

  /** The module `forward` runs now. */
  current(): Module {
    if (this.disabled || this.activeAdapter === null) return this.original_module;
    return this.modules_to_save.module(this.activeAdapter) ?? this.original_module;
  }

  // biome-ignore lint/suspicious/noExplicitAny: forwards whatever the wrapped module takes
  forward(...args: any[]): any {
    return this.current().forward(...args);
  }
}
