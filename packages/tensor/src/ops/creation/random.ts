/** Random tensors, driven by the global generator (`manualSeed`). */
import { checkDType, isFloating } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { nextSeed } from "../../random/generator.ts";
import { checkShape } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import type { CreateOptions } from "./tensor.ts";

function random(
  op: string,
  shape: number[],
  distribution: "uniform" | "normal",
  a: number,
  b: number,
  opts?: CreateOptions,
): Tensor {
  const dtype = checkDType(op, "dtype", opts?.dtype ?? "float32");
  const t = apply1("random", [], {
    shape: checkShape(op, "shape", shape),
    dtype,
    distribution,
    seed: nextSeed(),
    a,
    b,
  });
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/** Uniform in [0, 1). */
export function rand(shape: number[], opts?: CreateOptions): Tensor {
  return random("rand", shape, "uniform", 0, 1, opts);
}

/** Uniform in [low, high). */
export function uniform(shape: number[], low: number, high: number, opts?: CreateOptions): Tensor {
  return random("uniform", shape, "uniform", low, high, opts);
}

/** Standard normal (or `mean`, `std`). */
export function randn(shape: number[], opts?: CreateOptions & { mean?: number; std?: number }): Tensor {
  return random("randn", shape, "normal", opts?.mean ?? 0, opts?.std ?? 1, opts);
}

/** Integers uniform in [low, high) (int64 by default). */
export function randint(low: number, high: number, shape: number[], opts?: CreateOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", `randint: need integers low < high, got ${low}, ${high}`);
  }
  const dtype = opts?.dtype ?? "int64";
  if (isFloating(dtype)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `randint: argument 'dtype' must be an integer dtype, got ${dtype}`,
    );
  }
  return random("randint", shape, "uniform", low, high, { dtype });
}

/** `rand` with `t`'s shape and dtype. */
export function randLike(t: Tensor, opts?: CreateOptions): Tensor {
  return rand([...t.shape], { dtype: t.dtype, ...opts });
}

/** `randn` with `t`'s shape and dtype. */
export function randnLike(t: Tensor, opts?: CreateOptions): Tensor {
  return randn([...t.shape], { dtype: t.dtype, ...opts });
}

/**
 * Samples `numSamples` category indices per row of `probs` (non-negative weights, not
 * necessarily normalised). Returns int64.
 */
export function multinomial(probs: Tensor, numSamples: number, replacement = false): Tensor {
  return apply1("multinomial", [probs], { numSamples, replacement, seed: nextSeed() });
}
