/**
 * Value-level helpers of the column transforms: casting between features, flattening structs,
 * and the ordering `sort` uses (nulls last).
 */
import type { Column } from "../arrow/convert.ts";
import { fail } from "../errors.ts";
import {
  type ClassLabelFeature,
  type Feature,
  type Features,
  featureKind,
  featuresEqual,
} from "../features/features.ts";

/** Splits a struct column into `name.child` columns (recursively). */
export function flattenColumn(name: string, col: Column, f: Feature, out: Record<string, Column>): void {
  if (featureKind(f) !== "struct") {
    out[name] = col;
    return;
  }
  for (const [k, sf] of Object.entries(f as Features)) {
    const sub = Array.from(col as ArrayLike<unknown>, (v) =>
      v == null ? null : ((v as Record<string, unknown>)[k] ?? null),
    );
    flattenColumn(`${name}.${k}`, sub, sf, out);
  }
}

/** Casts a column's values from one feature to another (labels ↔ names, numbers ↔ strings). */
export function castValues(col: Column, from: Feature, to: Feature, name: string): Column {
  if (featuresEqual(from, to)) return col;
  const kt = featureKind(to);
  if (kt === "ClassLabel") {
    const names = (to as ClassLabelFeature).names;
    return Array.from(col as ArrayLike<unknown>, (v) => {
      if (v === null || v === undefined) return null;
      const id = typeof v === "string" ? names.indexOf(v) : Number(v);
      if (id < 0 || id >= names.length || !Number.isInteger(id)) {
        throw fail(
          "HEARTH_DATASETS_CAST_FAILED",
          `cast: column '${name}' value ${JSON.stringify(v)} is not one of the ${names.length} labels`,
        );
      }
      return id;
    });
  }
  if (featureKind(from) === "ClassLabel" && kt === "Value" && (to as { dtype: string }).dtype.includes("string")) {
    const names = (from as ClassLabelFeature).names;
    return Array.from(col as ArrayLike<number>, (v) => (v == null ? null : names[v]));
  }
  if (kt === "Value") {
    const d = (to as { dtype: string }).dtype;
    return Array.from(col as ArrayLike<unknown>, (v) => {
      if (v === null || v === undefined) return null;
      if (d === "string" || d === "large_string") return typeof v === "string" ? v : JSON.stringify(v);
      if (d === "bool") return Boolean(v);
      if (d.startsWith("int") || d.startsWith("uint") || d.startsWith("float")) {
        const x = typeof v === "string" ? Number(v) : Number(v);
        if (Number.isNaN(x) && v !== "NaN") {
          throw fail(
            "HEARTH_DATASETS_CAST_FAILED",
            `cast: column '${name}' value ${JSON.stringify(v)} is not a number (target ${d})`,
          );
        }
        return d.startsWith("float") ? x : Math.trunc(x);
      }
      return v;
    });
  }
  return col;
}

/** Ascending order of two non-null values. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  return (a as number) < (b as number) ? -1 : 1;
}
