/**
 * The `"tensor"` output format: numeric columns become `@hearth/tensor` tensors the way Python's
 * torch formatter makes them — integers (and ClassLabel ids) int64, floats float32, booleans bool;
 * equal-length numeric lists stack into a 2-D tensor `[batch, length]`, ragged ones give one
 * tensor per row. Strings, nested structs and columns with nulls stay plain JS values.
 */
import { type Tensor, tensor } from "@hearth/tensor";
import { type Column, isTypedArray } from "../arrow/convert.ts";
import { type Feature, featureKind, type ListFeature, type ValueFeature } from "../features/features.ts";

type Kind = "int" | "float" | "bool" | null;

function scalarKind(f: Feature): Kind {
  const k = featureKind(f);
  if (k === "ClassLabel") return "int";
  if (k !== "Value") return null;
  const d = (f as ValueFeature).dtype;
  if (d === "bool") return "bool";
  if (/^u?int\d+$/.test(d)) return "int";
  if (/^float\d+$/.test(d)) return "float";
  return null;
}

function flatTensor(values: ArrayLike<unknown>, kind: Exclude<Kind, null>, shape: number[]): Tensor {
  const n = values.length;
  if (kind === "int") {
    const out = new BigInt64Array(n);
    for (let i = 0; i < n; i++) out[i] = BigInt(values[i] as number);
    return tensor(out, { shape });
  }
  if (kind === "float") {
    const out = values instanceof Float32Array ? values : Float32Array.from(values as ArrayLike<number>);
    return tensor(out, { shape });
  }
  return tensor(Array.from(values, Boolean), { dtype: "bool" }).reshape(shape);
}

function hasNull(values: ArrayLike<unknown>): boolean {
  if (isTypedArray(values)) return false;
  for (let i = 0; i < values.length; i++) if (values[i] === null || values[i] === undefined) return true;
  return false;
}

/** One column of a batch as a tensor where the feature allows it (else the column unchanged). */
export function columnToTensor(col: Column, f: Feature): Tensor | Column | Tensor[] {
  const kind = scalarKind(f);
  if (kind) return hasNull(col) ? col : flatTensor(col, kind, [col.length]);
  if (featureKind(f) === "List") {
    const inner = scalarKind((f as ListFeature).feature);
    const rows = col as ArrayLike<ArrayLike<unknown> | null>;
    if (!inner || hasNull(rows)) return col;
    const len = rows.length ? (rows[0]?.length ?? 0) : 0;
    let equal = true;
    for (let i = 0; i < rows.length; i++)
      if (rows[i]?.length !== len || hasNull(rows[i] as ArrayLike<unknown>)) equal = false;
    if (equal) {
      const flat: unknown[] = [];
      for (let i = 0; i < rows.length; i++) for (let j = 0; j < len; j++) flat.push((rows[i] as ArrayLike<unknown>)[j]);
      return flatTensor(flat, inner, [rows.length, len]);
    }
    return Array.from(rows as ArrayLike<ArrayLike<unknown>>, (r) => flatTensor(r, inner, [r.length]));
  }
  return col;
}

/** A row value as a tensor (0-d for scalars, 1-D for numeric lists) where the feature allows it. */
export function valueToTensor(v: unknown, f: Feature): unknown {
  if (v === null || v === undefined) return v;
  const kind = scalarKind(f);
  if (kind) return flatTensor([v], kind, []);
  if (featureKind(f) === "List") {
    const inner = scalarKind((f as ListFeature).feature);
    const arr = v as ArrayLike<unknown>;
    if (inner && !hasNull(arr)) return flatTensor(arr, inner, [arr.length]);
  }
  return v;
}
