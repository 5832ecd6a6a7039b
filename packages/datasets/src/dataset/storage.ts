/**
 * Writing and reading a dataset's files: data files from batches of JS columns, and index-mapping
 * files (a `uint32` column `indices`) mapped back as a zero-copy `Uint32Array`.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { makeData, Uint32 } from "apache-arrow";
import { type Column, columnToData, schemaFromFeatures } from "../arrow/convert.ts";
import { ArrowStreamFileWriter, mapArrowFile } from "../arrow/ipc.ts";
import { fail } from "../errors.ts";
import type { Features } from "../features/features.ts";

/** Rows `[s, e)` of a column (a view for typed arrays). */
export function sliceAny(c: Column, s: number, e: number): Column {
  return ArrayBuffer.isView(c) ? (c as Float64Array).subarray(s, e) : (c as unknown[]).slice(s, e);
}

/** Writes batches of JS columns to an Arrow stream file atomically. */
export function writeColumnsFile(
  path: string,
  features: Features,
  fingerprint: string | undefined,
  batches: () => Iterable<{ columns: Record<string, Column>; length: number }>,
): { numRows: number; numBytes: number } {
  mkdirSync(dirname(path), { recursive: true });
  const schema = schemaFromFeatures(features, fingerprint);
  const writer = new ArrowStreamFileWriter(path, schema);
  try {
    const names = Object.keys(features);
    for (const { columns, length } of batches()) {
      if (length === 0) continue;
      const children = names.map((name) => {
        const col = columns[name];
        if (col === undefined)
          throw fail("HEARTH_DATASETS_MAP_FAILED", `write '${path}': batch lacks column '${name}'`);
        if (col.length !== length) {
          throw fail(
            "HEARTH_DATASETS_MAP_FAILED",
            `write '${path}': column '${name}' has ${col.length} values in a batch of ${length} rows`,
          );
        }
        return columnToData(col, features[name], name);
      });
      writer.writeData(children, length);
    }
    return writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Writes an index mapping file atomically. */
export function writeIndicesFile(path: string, indices: Uint32Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const features: Features = { indices: { _type: "Value", dtype: "uint32" } };
  const schema = schemaFromFeatures(features);
  const writer = new ArrowStreamFileWriter(path, schema);
  try {
    // Batches of 1M rows keep the encoder's temporary copies small; reading joins them (4 bytes/row).
    const chunk = 1 << 20;
    for (let s = 0; s < indices.length; s += chunk) {
      const part = indices.subarray(s, Math.min(indices.length, s + chunk));
      writer.writeData([makeData({ type: new Uint32(), length: part.length, data: part })], part.length);
    }
    writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  }
}

/** Maps an index mapping file as a `Uint32Array` (copied only when it has several batches). */
export function readIndicesFile(path: string): Uint32Array {
  const t = mapArrowFile(path);
  if (t.batches.length === 1) {
    const d = t.batches[0].data.children[0];
    return (d.values as Uint32Array).subarray(0, d.length);
  }
  const out = new Uint32Array(t.numRows);
  let off = 0;
  for (const b of t.batches) {
    const d = b.data.children[0];
    out.set((d.values as Uint32Array).subarray(0, d.length), off);
    off += d.length;
  }
  return out;
}
