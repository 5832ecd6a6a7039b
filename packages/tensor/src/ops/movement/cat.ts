/** Joining: cat, stack. */
import { HearthTensorError } from "../../errors.ts";
import { fmt, normalizeDim } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { unsqueeze } from "./reshape.ts";

/** Concatenates along `dim` (all other dims must match). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  return apply1("cat", tensors, { dim });
}

/** Stacks equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  const first = tensors[0];
  if (!first) throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", "stack: argument 'tensors' must not be empty");
  tensors.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, d) => s !== first.shape[d])) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `stack: tensors[${i}] has shape ${fmt(t.shape)}, but tensors[0] has ${fmt(first.shape)}`,
      );
    }
  });
  const d = normalizeDim("stack", dim, first.ndim + 1);
  return cat(
    tensors.map((t) => unsqueeze(t, d)),
    d,
  );
}
