import { HearthTensorError } from "../../errors.ts";
import { Module } from "../module.ts";

/** A list of submodules registered as "0", "1", …. */
export class ModuleList<M extends Module = Module> extends Module {
  private readonly items: M[] = [];
  constructor(modules: Iterable<M> = []) {
    super();
    for (const m of modules) this.append(m);
  }
  /** Adds `m` at the end. */
  append(m: M): this {
    this.registerModule(String(this.items.length), m);
    this.items.push(m);
    return this;
  }
  /** The `i`-th module (negative counts from the end). */
  at(i: number): M {
    const m = this.items.at(i);
    if (!m) {
      throw new HearthTensorError(
        "HEARTH_NN_ARGUMENT",
        `ModuleList.at: index ${i} is out of range for length ${this.items.length}`,
      );
    }
    return m;
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

/**
 * Modules applied one after another.
 *
 * @example
 * const mlp = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
 */
export class Sequential extends ModuleList {
  constructor(...modules: Module[]) {
    super(modules);
  }
  // biome-ignore lint/suspicious/noExplicitAny: passes whatever each module returns to the next
  forward(x: any): any {
    let y = x;
    for (const m of this) y = m.forward(y);
    return y;
  }
}
