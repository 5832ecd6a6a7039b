/**
 * The `"tensor"` format lives behind the `@hearth/datasets/tensor` entry point, so importing the
 * datasets library does not load the tensor engine. That entry registers its converters here.
 */
import type { Column } from "../arrow/convert.ts";
import { fail } from "../errors.ts";
import type { Feature } from "../features/features.ts";

/** Converts batch columns and row values to tensors. */
export interface TensorFormatter {
  column(col: Column, f: Feature): unknown;
  value(v: unknown, f: Feature): unknown;
}

let formatter: TensorFormatter | null = null;

/** Called by `@hearth/datasets/tensor` on import. */
export function registerTensorFormatter(f: TensorFormatter): void {
  formatter = f;
}

/** The registered formatter, or a coded error saying which import enables it. */
export function tensorFormatter(): TensorFormatter {
  if (!formatter) {
    throw fail(
      "HEARTH_DATASETS_BAD_ARGUMENT",
      'withFormat("tensor"): import "@hearth/datasets/tensor" once to enable the tensor format (it loads @hearth/tensor)',
    );
  }
  return formatter;
}
