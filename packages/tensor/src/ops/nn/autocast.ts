/**
 * Autocast: the mixed-precision switch the dispatcher-level ops consult, as PyTorch's autocast.
 * While active, `matmul` (and so `linear` and attention, which are built on it) casts float32
 * operands to the autocast dtype, multiplies there (the kernels accumulate in float32) and
 * casts the product back to float32, so norms, softmax and losses around it stay float32 and
 * gradients reach float32 master weights through the differentiable casts.
 */
import type { DType } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";

let current: DType | null = null;

/** The dtype matmuls run in under autocast, or null when autocast is off. */
export function autocastDtype(): DType | null {
  return current;
}

/**
 * Runs `fn` with float32 matmuls computed in `dtype` ("bfloat16" or "float16"); `null` turns
 * autocast off inside `fn`. Restores the previous state afterwards.
 *
 * @example
 * const logits = autocast("bfloat16", () => model.forward(ids));
 */
export function autocast<T>(dtype: DType | null, fn: () => T): T {
  if (dtype !== null && dtype !== "bfloat16" && dtype !== "float16") {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `autocast: argument 'dtype' must be "bfloat16", "float16" or null, got '${dtype}'`,
    );
  }
  const prev = current;
  current = dtype;
  try {
    return fn();
  } finally {
    current = prev;
  }
}
