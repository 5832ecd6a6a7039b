/** Ranges: arange, linspace, eye. */
import { writeNumbers } from "../../access.ts";
import { checkDType } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import type { Tensor } from "../../tensor.ts";
import { allocate } from "../apply.ts";
import type { CreateOptions } from "./tensor.ts";

/**
 * Values `start, start + step, …` below `end` (float32 by default; pass `dtype: "int64"` for
 * ids). `arange(5)` is `[0, 1, 2, 3, 4]`.
 */
export function arange(start: number, end?: number, step = 1, opts?: CreateOptions): Tensor {
  const [lo, hi] = end === undefined ? [0, start] : [start, end];
  if (step === 0 || !Number.isFinite(step)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `arange: argument 'step' must be finite and non-zero, got ${step}`,
    );
  }
  const n = Math.max(0, Math.ceil((hi - lo) / step));
  const dtype = checkDType("arange", "dtype", opts?.dtype ?? "float32");
  const t = allocate([n], dtype);
  if (t.device === "meta") return t; // under onMetaDevice: shape only
  writeNumbers(
    t.view_().data,
    dtype,
    Float64Array.from({ length: n }, (_, i) => lo + i * step),
  );
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, opts?: CreateOptions): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `linspace: argument 'steps' must be a non-negative integer, got ${steps}`,
    );
  }
  const dtype = checkDType("linspace", "dtype", opts?.dtype ?? "float32");
  const t = allocate([steps], dtype);
  const d = steps > 1 ? (end - start) / (steps - 1) : 0;
  // like PyTorch, fill the second half from the end so `end` is exact
  const vals = Float64Array.from({ length: steps }, (_, i) =>
    i < steps / 2 ? start + i * d : end - (steps - 1 - i) * d,
  );
  if (t.device !== "meta") writeNumbers(t.view_().data, dtype, vals);
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/** The `n`×`m` identity (ones on the diagonal). */
export function eye(n: number, m = n, opts?: CreateOptions): Tensor {
  const dtype = checkDType("eye", "dtype", opts?.dtype ?? "float32");
  const t = allocate([n, m], dtype);
  const vals = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) vals[i * m + i] = 1;
  if (t.device !== "meta") writeNumbers(t.view_().data, dtype, vals);
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}
