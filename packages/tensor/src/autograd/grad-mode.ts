/** Whether ops record onto the autograd tape. */
let enabled = true;

/** Whether gradient recording is on. */
export function isGradEnabled(): boolean {
  return enabled;
}

/**
 * Whether an op on `inputs` records onto the tape now: recording is on and an input needs a
 * gradient (what `apply` checks, and what a primitive whose extra outputs only its backward reads
 * asks before it makes them).
 */
export function recordsBackward(inputs: readonly { readonly requiresGrad: boolean }[]): boolean {
  return enabled && inputs.some(needsGradient);
}

function needsGradient(t: { readonly requiresGrad: boolean }): boolean {
  return t.requiresGrad;
}

/**
 * Runs `fn` without recording ops for autograd (inference, optimiser updates).
 *
 * @example
 * const y = noGrad(() => model.forward(x));
 */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

let backwardDepth = 0;

/** Whether a backward pass is running (its formulas run under `noGrad`). */
export function isInBackward(): boolean {
  return backwardDepth > 0;
}

/** Runs a backward pass's `fn`: under `noGrad`, with {@link isInBackward} true. */
export function duringBackward<T>(fn: () => T): T {
  backwardDepth++;
  try {
    return noGrad(fn);
  } finally {
    backwardDepth--;
  }
}

/** Runs `fn` with gradient recording on (inside a `noGrad`). */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}
