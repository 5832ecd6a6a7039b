/**
 * Building a model without initialising its weights, for `fromPretrained`: every parameter is
 * about to be replaced by the checkpoint's tensor, so drawing 124M random numbers first (about
 * 20 s on the js backend) is wasted. Python does the same with `no_init_weights`.
 *
 * The engine's layers initialise through the `random` primitive, so this runs the constructor
 * on a copy of the active backend whose `random` kernel leaves the (zero-filled) output as it
 * is; every other kernel and the allocator are the active backend's own.
 */
import { getBackend, listBackends, registerBackend, withBackend } from "@hearth/tensor";

/** Runs `fn` (a model constructor) with random initialisation switched off. */
export function withoutInit<T>(fn: () => T): T {
  const base = getBackend();
  const name = `${base.name}:no-init`;
  if (!listBackends().includes(name)) {
    const kernels = base.kernels.filter((k) => k.op !== "random");
    kernels.push({ op: "random", fn: () => {} });
    registerBackend({ ...base, name, kernels }, Number.NEGATIVE_INFINITY);
  }
  return withBackend(name, fn);
}
