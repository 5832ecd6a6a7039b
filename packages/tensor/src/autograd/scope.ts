/**
 * Deterministic memory release: `scope(fn)` disposes every tensor created inside `fn` except
 * what `fn` returns and what was `keep()`-ed (leaf gradients are kept automatically).
 */
import { currentScope, popScope, pushScope, type Tensor } from "../tensor.ts";

const kept = new WeakSet<Tensor>();

/** Exempts `t` from disposal by enclosing scopes. Returns `t`. */
export function keep<T extends Tensor>(t: T): T {
  kept.add(t);
  return t;
}

function collect(value: unknown, into: Set<Tensor>): void {
  if (value === null || value === undefined) return;
  if (typeof value !== "object") return;
  // Typed arrays (what dataSync() returns) and buffers hold numbers, never tensors: walking a
  // logits row element by element cost milliseconds per scope.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  if ("storage" in value && "shape" in value && "dispose" in value) {
    into.add(value as Tensor);
    return;
  }
  if (Array.isArray(value)) for (const v of value) collect(v, into);
  else for (const v of Object.values(value)) collect(v, into);
}

/**
 * Runs `fn`, then disposes every tensor it created that is not returned (tensors found in a
 * returned array or object are kept too) and not `keep()`-ed. Use it around each training step
 * so memory stays flat.
 *
 * @example
 * for (let step = 0; step < 1000; step++) {
 *   const loss = scope(() => {
 *     const l = mseLoss(model.forward(x), y);
 *     l.backward();
 *     opt.step();
 *     opt.zeroGrad();
 *     return l.item();
 *   });
 * }
 */
export function scope<T>(fn: () => T): T {
  const list = pushScope();
  let result: T;
  try {
    result = fn();
  } finally {
    popScope();
  }
  const survivors = new Set<Tensor>();
  collect(result, survivors);
  const parent = currentScope();
  for (const t of list) {
    if (survivors.has(t)) parent?.push(t);
    else if (!kept.has(t)) t.dispose();
  }
  return result;
}
