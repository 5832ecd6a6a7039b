/**
 * Exports: Parquet (hyparquet-writer, one row group per 100k rows, features in the `huggingface`
 * key-value metadata as Python writes them), JSON Lines, and CSV. Each writes a temp file and
 * renames it into place.
 */
import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { fileWriter, ParquetWriter, schemaFromColumnData } from "hyparquet-writer";
import type { Dataset } from "../dataset/dataset.ts";
import { scanColumns } from "../dataset/scan.ts";
import { fail } from "../errors.ts";
import { type Feature, featureKind, featuresToJson, type ValueFeature } from "../features/features.ts";

function atomic(path: string, write: (fd: number) => void): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const fd = openSync(tmp, "w");
  try {
    write(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {}
    try {
      unlinkSync(tmp);
    } catch {}
    throw error;
  }
}

function jsonValue(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (v instanceof Date) return v.toISOString();
  if (v && typeof v === "object" && "toJSON" in v && typeof v.toJSON === "function") return jsonValue(v.toJSON());
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<unknown>);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

/** Writes JSON Lines (one object per row), as Python's `to_json` with `lines=True`. */
export function toJson(ds: Dataset, path: string): void {
  atomic(path, (fd) => {
    for (const b of scanColumns(ds.scanSource(), { batchSize: 1000, columns: ds.columnNames, typed: false })) {
      let chunk = "";
      for (let i = 0; i < b.length; i++) {
        const row: Record<string, unknown> = {};
        for (const c of ds.columnNames) row[c] = jsonValue((b.columns[c] as ArrayLike<unknown>)[i]);
        chunk += `${JSON.stringify(row)}\n`;
      }
      writeSync(fd, chunk);
    }
  });
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s =
    typeof v === "object" ? JSON.stringify(jsonValue(v)) : typeof v === "boolean" ? (v ? "True" : "False") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Writes CSV with a header line (pandas' quoting: fields with commas, quotes or newlines are quoted). */
export function toCsv(ds: Dataset, path: string, options: { sep?: string } = {}): void {
  const sep = options.sep ?? ",";
  atomic(path, (fd) => {
    writeSync(fd, `${ds.columnNames.map(csvCell).join(sep)}\n`);
    for (const b of scanColumns(ds.scanSource(), { batchSize: 1000, columns: ds.columnNames, typed: false })) {
      let chunk = "";
      for (let i = 0; i < b.length; i++)
        chunk += `${ds.columnNames.map((c) => csvCell((b.columns[c] as ArrayLike<unknown>)[i])).join(sep)}\n`;
      writeSync(fd, chunk);
    }
  });
}

/** hyparquet-writer's basic type for a feature; nested features are written as JSON strings. */
function parquetType(f: Feature): { type: string; json: boolean } {
  const k = featureKind(f);
  if (k === "ClassLabel") return { type: "INT64", json: false };
  if (k !== "Value") return { type: "JSON", json: true };
  const d = (f as ValueFeature).dtype;
  if (d === "bool") return { type: "BOOLEAN", json: false };
  if (d === "int8" || d === "int16" || d === "int32" || d === "uint8" || d === "uint16")
    return { type: "INT32", json: false };
  if (d === "int64" || d === "uint32" || d === "uint64") return { type: "INT64", json: false };
  if (d === "float16" || d === "float32") return { type: "FLOAT", json: false };
  if (d === "float64") return { type: "DOUBLE", json: false };
  if (d === "string" || d === "large_string") return { type: "STRING", json: false };
  if (d.startsWith("timestamp") || d.startsWith("date")) return { type: "TIMESTAMP", json: false };
  return { type: "BYTE_ARRAY", json: false };
}

/**
 * Writes Parquet with one row group per `rowGroupSize` rows (default 100,000). Scalar columns keep
 * their types; lists, structs, images and audio are stored as JSON text columns.
 */
export function toParquet(ds: Dataset, path: string, options: { rowGroupSize?: number } = {}): void {
  const rowGroupSize = options.rowGroupSize ?? 100000;
  const types = Object.fromEntries(ds.columnNames.map((c) => [c, parquetType(ds.features[c])]));
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  let writer: ParquetWriter | null = null;
  try {
    for (const b of scanColumns(ds.scanSource(), { batchSize: rowGroupSize, columns: ds.columnNames, typed: false })) {
      const columnData = ds.columnNames.map((c) => {
        const t = types[c];
        const data = Array.from(b.columns[c] as ArrayLike<unknown>, (v) => {
          if (v === null || v === undefined) return null;
          if (t.json) return JSON.stringify(jsonValue(v));
          if (t.type === "INT64") return typeof v === "bigint" ? v : BigInt(v as number);
          return v;
        });
        return { name: c, data, type: (t.json ? "STRING" : t.type) as "STRING" };
      });
      if (!writer) {
        writer = new ParquetWriter({
          writer: fileWriter(tmp),
          schema: schemaFromColumnData({ columnData }),
          kvMetadata: [
            { key: "huggingface", value: JSON.stringify({ info: { features: featuresToJson(ds.features) } }) },
          ],
        });
      }
      writer.write({ columnData: columnData.map(({ name, data }) => ({ name, data })), rowGroupSize });
    }
    if (!writer) {
      writer = new ParquetWriter({
        writer: fileWriter(tmp),
        schema: schemaFromColumnData({
          columnData: ds.columnNames.map((c) => ({
            name: c,
            data: [],
            type: (types[c].json ? "STRING" : types[c].type) as "STRING",
          })),
        }),
      });
    }
    writer.finish();
    renameSync(tmp, path);
  } catch (error) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw fail("HEARTH_DATASETS_CAST_FAILED", `toParquet: '${path}': ${(error as Error).message}`, error);
  }
}
