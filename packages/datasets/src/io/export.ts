/**
 * Exports: Parquet (hyparquet-writer, one row group per 100k rows, features in the `huggingface`
 * key-value metadata as Python writes them), JSON Lines, and CSV. Each writes a temp file and
 * renames it into place.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { fileWriter, ParquetWriter } from "hyparquet-writer";
import type { Dataset } from "../dataset/dataset.ts";
import { scanColumns } from "../dataset/scan.ts";
import { fail } from "../errors.ts";
import {
  type Feature,
  type Features,
  featureKind,
  featuresToJson,
  type ListFeature,
  type ValueFeature,
} from "../features/features.ts";

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

/** The writer's schema element type (its own hyparquet version). */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]["schema"][number];

/** Parquet schema elements for a feature (pyarrow's mapping: LIST/list/element, structs as groups). */
function schemaElements(name: string, f: Feature): SchemaElement[] {
  const kind = featureKind(f);
  if (kind === "ClassLabel") return [{ name, type: "INT64", repetition_type: "OPTIONAL" }];
  if (kind === "Value") return [{ name, repetition_type: "OPTIONAL", ...leafType((f as ValueFeature).dtype) }];
  if (kind === "List") {
    const item = schemaElements("element", (f as ListFeature).feature);
    return [
      { name, repetition_type: "OPTIONAL", num_children: 1, converted_type: "LIST" },
      { name: "list", repetition_type: "REPEATED", num_children: 1 },
      ...item,
    ];
  }
  const fields: Features =
    kind === "Image" || kind === "Audio"
      ? { bytes: { _type: "Value", dtype: "binary" }, path: { _type: "Value", dtype: "string" } }
      : (f as Features);
  const children = Object.entries(fields).flatMap(([k, sub]) => schemaElements(k, sub));
  return [{ name, repetition_type: "OPTIONAL", num_children: Object.keys(fields).length }, ...children];
}

function leafType(dtype: string): Pick<SchemaElement, "type" | "converted_type"> {
  switch (dtype) {
    case "bool":
      return { type: "BOOLEAN" };
    case "int8":
      return { type: "INT32", converted_type: "INT_8" };
    case "int16":
      return { type: "INT32", converted_type: "INT_16" };
    case "int32":
      return { type: "INT32" };
    case "uint8":
      return { type: "INT32", converted_type: "UINT_8" };
    case "uint16":
      return { type: "INT32", converted_type: "UINT_16" };
    case "uint32":
      return { type: "INT32", converted_type: "UINT_32" };
    case "int64":
      return { type: "INT64" };
    case "uint64":
      return { type: "INT64", converted_type: "UINT_64" };
    case "float16":
    case "float32":
      return { type: "FLOAT" };
    case "float64":
      return { type: "DOUBLE" };
    case "string":
    case "large_string":
      return { type: "BYTE_ARRAY", converted_type: "UTF8" };
    case "date32":
    case "date64":
      return { type: "INT32", converted_type: "DATE" };
    case "timestamp[s]":
    case "timestamp[ms]":
      return { type: "INT64", converted_type: "TIMESTAMP_MILLIS" };
    case "timestamp[us]":
    case "timestamp[ns]":
      return { type: "INT64", converted_type: "TIMESTAMP_MICROS" };
    default:
      return { type: "BYTE_ARRAY" };
  }
}

/** A JS value in the shape hyparquet-writer encodes for the feature (int64 as bigint, nested as-is). */
function parquetValue(v: unknown, f: Feature, embed: boolean): unknown {
  if (v === null || v === undefined) return null;
  const kind = featureKind(f);
  if (kind === "ClassLabel") return BigInt(v as number);
  if (kind === "Value") {
    const d = (f as ValueFeature).dtype;
    if (d === "int64" || d === "uint64") return typeof v === "bigint" ? v : BigInt(v as number);
    if (d === "uint32") return v;
    return v;
  }
  if (kind === "List")
    return Array.from(v as ArrayLike<unknown>, (x) => parquetValue(x, (f as ListFeature).feature, embed));
  if (kind === "Image" || kind === "Audio") {
    const o = (
      typeof (v as { toJSON?: unknown }).toJSON === "function" ? (v as { toJSON(): unknown }).toJSON() : v
    ) as {
      bytes?: Uint8Array | null;
      path?: string | null;
    };
    if (embed && !o.bytes && o.path && existsSync(o.path)) {
      // Python's embed_external_files: the file's bytes go in, the path keeps only its name.
      return { bytes: new Uint8Array(readFileSync(o.path)), path: basename(o.path) };
    }
    return { bytes: o.bytes ?? null, path: o.path ?? null };
  }
  const out: Record<string, unknown> = {};
  for (const [k, sub] of Object.entries(f as Features))
    out[k] = parquetValue((v as Record<string, unknown>)[k], sub, embed);
  return out;
}

/**
 * Writes Parquet with one row group per `rowGroupSize` rows (default 100,000): scalar, list,
 * struct, Image and Audio columns keep their structure (pyarrow's layout), and the features travel
 * in the `huggingface` key-value metadata as Python writes them. `embedExternalFiles` puts the
 * bytes of Image/Audio files referenced by path into the file (as `pushToHub` does).
 */
export function toParquet(
  ds: Dataset,
  path: string,
  options: { rowGroupSize?: number; embedExternalFiles?: boolean } = {},
): void {
  const rowGroupSize = options.rowGroupSize ?? 100000;
  const schema: SchemaElement[] = [
    { name: "schema", num_children: ds.columnNames.length },
    ...ds.columnNames.flatMap((c) => schemaElements(c, ds.features[c])),
  ];
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  try {
    const writer = new ParquetWriter({
      writer: fileWriter(tmp),
      schema,
      kvMetadata: [{ key: "huggingface", value: JSON.stringify({ info: { features: featuresToJson(ds.features) } }) }],
    });
    for (const b of scanColumns(ds.scanSource(), { batchSize: rowGroupSize, columns: ds.columnNames, typed: false })) {
      const columnData = ds.columnNames.map((c) => ({
        name: c,
        data: Array.from(b.columns[c] as ArrayLike<unknown>, (v) =>
          parquetValue(v, ds.features[c], options.embedExternalFiles ?? false),
        ),
      }));
      writer.write({ columnData, rowGroupSize });
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
