/**
 * Autocast: the mixed-precision switch the dispatcher-level ops consult, as PyTorch's autocast.
 * While active, `matmul` (and so `linear` and attention, which are built on it) casts float32
 * operands to the autocast dtype and multiplies there, accumulating in float32 and keeping the
 * float32 product, so norms, softmax and losses around it stay float32 and gradients reach
 * float32 master weights through the differentiable casts.
 *
 * The backward GEMMs (dA = dC·Bᵀ, dB = Aᵀ·dC) also take 16-bit operands (the saved casts and
 * dC rounded once) and write float32. Their float32 results flow back to the casts unrounded:
 * the 16-bit operands autocast makes are marked ({@link markAutocastOperand}), and the autograd
 * engine lets a float32 gradient stand for such a tensor, since the cast's backward would turn
 * it back into float32 anyway (rounding it in between would cost two passes and precision).
 */
import type { DType } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";

let current: DType | null = null;
const operands = new WeakSet<Tensor>();

/**
 * Marks `t`, a 16-bit tensor made from a float32 one by casts and views for a mixed-precision
 * product, as one whose gradient may stay float32. Returns `t`.
 */
export function markAutocastOperand(t: Tensor): Tensor {
  operands.add(t);
  return t;
}

/** Whether `t` was marked by {@link markAutocastOperand}. */
export function isAutocastOperand(t: Tensor): boolean {
  return operands.has(t);
}

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
