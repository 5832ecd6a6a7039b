import { Module, type Tensor } from "@hearth/tensor";

/**
 * Per-adapter submodules or parameters under the adapter's name, like PyTorch's `ModuleDict`
 * and `ParameterDict`, so state-dict keys read `lora_A.default.weight` as PEFT's do.
 */
export class AdapterDict<M extends Module = Module> extends Module {
  readonly #modules = new Map<string, M>();
  readonly #params = new Map<string, Tensor>();

  setModule(name: string, m: M): void {
    this.registerModule(name, m);
    this.#modules.set(name, m);
  }

  setParam(name: string, t: Tensor): void {
    this.registerParameter(name, t);
    this.#params.set(name, t);
  }

  module(name: string): M | undefined {
    return this.#modules.get(name);
  }

  param(name: string): Tensor | undefined {
    return this.#params.get(name);
  }

  has(name: string): boolean {
    return this.#modules.has(name) || this.#params.has(name);
  }

  delete(name: string): void {
    if (this.#modules.delete(name)) this.registerModule(name, null);
    if (this.#params.delete(name)) this.registerParameter(name, null);
  }

  names(): string[] {
    return [...new Set([...this.#modules.keys(), ...this.#params.keys()])];
  }
}
