/**
 * Parquet reading through hyparquet: the footer (schema, row groups) first, then one row group at
 * a time, column-wise, so a big file never sits in memory whole. Column types follow the Parquet
 * schema the way pyarrow maps it (INT96 → timestamp[ns], unannotated BYTE_ARRAY → binary).
 */
import { closeSync, openSync, readSync, statSync } from "node:fs";
import {
  type AsyncBuffer,
  type FileMetaData,
  parquetMetadataAsync,
  parquetRead,
  parquetSchema,
  type SchemaTree,
} from "hyparquet";
import { compressors } from "hyparquet-compressors";
import type { Column } from "../arrow/convert.ts";
import { fail } from "../errors.ts";
import {
  type Feature,
  type Features,
  featureKind,
  featuresFromJson,
  List,
  type ListFeature,
  Value,
  type ValueFeature,
} from "../features/features.ts";

/** An opened Parquet file: its footer, features and row-group boundaries. */
export interface ParquetSource {
  path: string;
  file: AsyncBuffer;
  metadata: FileMetaData;
  features: Features;
  numRows: number;
  rowGroups: { start: number; end: number }[];
}

/** Reads byte ranges of a local file on demand (hyparquet's AsyncBuffer over a descriptor). */
function fileBuffer(path: string): AsyncBuffer {
  const byteLength = statSync(path).size;
  return {
    byteLength,
    slice(start: number, end = byteLength): ArrayBuffer {
      const fd = openSync(path, "r");
      try {
        const out = new Uint8Array(end - start);
        let off = 0;
        while (off < out.length) {
          const n = readSync(fd, out, off, out.length - off, start + off);
          if (n <= 0) break;
          off += n;
        }
        return out.buffer;
      } finally {
        closeSync(fd);
      }
    },
  };
}

/** Opens a Parquet file (local, or `remote` byte ranges): checks the magic numbers and parses the footer. */
export async function openParquet(path: string, remote?: AsyncBuffer): Promise<ParquetSource> {
  let file: AsyncBuffer;
  try {
    file = remote ?? fileBuffer(path);
  } catch (error) {
    throw fail("HEARTH_DATASETS_FILE_NOT_FOUND", `parquet: cannot open '${path}': ${(error as Error).message}`, error);
  }
  const size = file.byteLength;
  const magic = (b: ArrayBuffer) => new TextDecoder().decode(new Uint8Array(b));
  if (size < 12 || magic(await file.slice(0, 4)) !== "PAR1" || magic(await file.slice(size - 4, size)) !== "PAR1") {
    throw fail(
      "HEARTH_DATASETS_PARQUET_CORRUPT",
      `parquet: '${path}' does not start and end with the magic 'PAR1' (${size} bytes); the file is truncated or not Parquet`,
    );
  }
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_PARQUET_CORRUPT",
      `parquet: the footer of '${path}' does not parse: ${(error as Error).message}`,
      error,
    );
  }
  let start = 0;
  const rowGroups = metadata.row_groups.map((rg) => {
    const n = Number(rg.num_rows);
    const r = { start, end: start + n };
    start += n;
    return r;
  });
  return { path, file, metadata, features: parquetFeatures(metadata), numRows: Number(metadata.num_rows), rowGroups };
}

/** Features of a Parquet file: Python's `huggingface` metadata when present, else from the schema. */
export function parquetFeatures(metadata: FileMetaData): Features {
  const hf = metadata.key_value_metadata?.find((kv) => kv.key === "huggingface")?.value;
  if (hf) {
    try {
      const f = (JSON.parse(hf) as { info?: { features?: unknown } }).info?.features;
      if (f) return featuresFromJson(f, "parquet huggingface metadata");
    } catch {
      // Fall back to the physical schema.
    }
  }
  const out: Features = {};
  for (const child of parquetSchema(metadata).children) out[child.element.name] = nodeFeature(child);
  return out;
}

function nodeFeature(node: SchemaTree): Feature {
  const e = node.element;
  const logical = e.logical_type as { type?: string; unit?: string; bitWidth?: number; isSigned?: boolean } | undefined;
  if (node.children.length > 0) {
    if (e.converted_type === "LIST" || logical?.type === "LIST") {
      const repeated = node.children[0];
      const item = repeated.children.length === 1 ? repeated.children[0] : repeated;
      return List(repeated.children.length === 0 ? leafFeature(repeated) : nodeFeature(item));
    }
    if (e.converted_type === "MAP" || e.converted_type === "MAP_KEY_VALUE" || logical?.type === "MAP") {
      const kv = node.children[0];
      const f: Features = {};
      for (const c of kv.children) f[c.element.name] = nodeFeature(c);
      return List(f);
    }
    const f: Features = {};
    for (const c of node.children) f[c.element.name] = nodeFeature(c);
    return e.repetition_type === "REPEATED" ? List(f) : f;
  }
  const leaf = leafFeature(node);
  return e.repetition_type === "REPEATED" ? List(leaf) : leaf;
}

function leafFeature(node: SchemaTree): Feature {
  const e = node.element;
  const logical = e.logical_type as { type?: string; unit?: string; bitWidth?: number; isSigned?: boolean } | undefined;
  const ct = e.converted_type;
  switch (e.type) {
    case "BOOLEAN":
      return Value("bool");
    case "INT32":
      if (ct === "DATE" || logical?.type === "DATE") return Value("date32");
      if (ct === "INT_8") return Value("int8");
      if (ct === "INT_16") return Value("int16");
      if (ct === "UINT_8") return Value("uint8");
      if (ct === "UINT_16") return Value("uint16");
      if (ct === "UINT_32") return Value("uint32");
      if (ct === "DECIMAL" || logical?.type === "DECIMAL") return Value("float64");
      if (logical?.type === "INTEGER")
        return Value(`${logical.isSigned === false ? "uint" : "int"}${logical.bitWidth ?? 32}`);
      return Value("int32");
    case "INT64":
      if (ct === "TIMESTAMP_MILLIS") return Value("timestamp[ms]");
      if (ct === "TIMESTAMP_MICROS") return Value("timestamp[us]");
      if (logical?.type === "TIMESTAMP")
        return Value(`timestamp[${logical.unit === "MILLIS" ? "ms" : logical.unit === "NANOS" ? "ns" : "us"}]`);
      if (ct === "UINT_64" || (logical?.type === "INTEGER" && logical.isSigned === false)) return Value("uint64");
      if (ct === "DECIMAL" || logical?.type === "DECIMAL") return Value("float64");
      return Value("int64");
    case "INT96":
      return Value("timestamp[ns]");
    case "FLOAT":
      return Value("float32");
    case "DOUBLE":
      return Value("float64");
    case "BYTE_ARRAY":
    case "FIXED_LEN_BYTE_ARRAY":
      if (
        ct === "UTF8" ||
        ct === "JSON" ||
        ct === "ENUM" ||
        logical?.type === "STRING" ||
        logical?.type === "JSON" ||
        logical?.type === "ENUM"
      ) {
        return Value("string");
      }
      if (ct === "DECIMAL" || logical?.type === "DECIMAL") return Value("float64");
      return Value("binary");
    default:
      throw fail(
        "HEARTH_DATASETS_PARQUET_CORRUPT",
        `parquet: column '${e.name}' has an unknown physical type '${String(e.type)}'`,
      );
  }
}

const parsers = {
  // Keep timestamps in their own unit (exact), as pyarrow does; Dates would lose micro/nanoseconds.
  timestampFromMilliseconds: (v: bigint) => v,
  timestampFromMicroseconds: (v: bigint) => v,
  timestampFromNanoseconds: (v: bigint) => v,
  dateFromDays: (v: number) => v,
  // Strings stay UTF-8 bytes: the Arrow writer copies them as they are (no decode + re-encode);
  // rows handed to users are decoded by parquetColumnToJs.
  stringFromBytes: (v: Uint8Array) => v,
  jsonFromBytes: (v: Uint8Array) => v,
};

/** Reads rows [rowStart, rowEnd) as JS columns (numeric columns as typed arrays when possible). */
export async function readParquetRows(
  src: ParquetSource,
  rowStart: number,
  rowEnd: number,
  columns?: string[],
): Promise<{ columns: Record<string, Column>; length: number }> {
  const names = columns ?? Object.keys(src.features);
  const pieces = new Map<string, { start: number; data: ArrayLike<unknown> }[]>();
  try {
    await parquetRead({
      file: src.file,
      metadata: src.metadata,
      columns: names,
      rowStart,
      rowEnd,
      compressors,
      utf8: false,
      parsers,
      onChunk: (c) => {
        const piece = { start: c.rowStart, data: c.columnData as ArrayLike<unknown> };
        const list = pieces.get(c.columnName);
        if (list) list.push(piece);
        else pieces.set(c.columnName, [piece]);
      },
    });
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_PARQUET_CORRUPT",
      `parquet: reading rows ${rowStart}-${rowEnd} of '${src.path}' failed: ${(error as Error).message}`,
      error,
    );
  }
  const length = rowEnd - rowStart;
  const out: Record<string, Column> = {};
  for (const name of names) {
    const list = (pieces.get(name) ?? []).sort((a, b) => a.start - b.start);
    out[name] = assemble(list, rowStart, rowEnd, src.features[name]);
  }
  return { columns: out, length };
}

function assemble(
  list: { start: number; data: ArrayLike<unknown> }[],
  rowStart: number,
  rowEnd: number,
  f: Feature,
): Column {
  const n = rowEnd - rowStart;
  const first = list[0];
  const binary = (f as { dtype?: string }).dtype === "binary";
  // One chunk covering exactly the rows: use it as it is (no copy), unless strings need encoding.
  if (first && list.length === 1 && first.start === rowStart && first.data.length === n) {
    if (ArrayBuffer.isView(first.data) || !binary) return first.data as Column;
  }
  const out = new Array<unknown>(n).fill(null);
  for (const { start, data } of list) {
    for (let i = 0; i < data.length; i++) {
      const row = start + i;
      if (row < rowStart || row >= rowEnd) continue;
      let v = data[i];
      if (binary && typeof v === "string") v = new TextEncoder().encode(v);
      out[row - rowStart] = v;
    }
  }
  return out;
}

const MEDIA_FIELDS: Features = { bytes: Value("binary"), path: Value("string") };

const MS_PER_UNIT: Record<string, number> = {
  "timestamp[s]": 1000,
  "timestamp[ms]": 1,
  "timestamp[us]": 1e-3,
  "timestamp[ns]": 1e-6,
};

/** One value as the Arrow-backed Dataset gives it: int64 → number, timestamps and dates → Date. */
function valueToJs(v: unknown, f: Feature | undefined): unknown {
  if (v === null || v === undefined) return null;
  const kind = f ? featureKind(f) : null;
  if (kind === "Value") {
    const d = (f as ValueFeature).dtype;
    if (d.startsWith("timestamp")) return new Date(Number(v) * (MS_PER_UNIT[d] ?? 1));
    if (d === "date32") return typeof v === "number" ? new Date(v * 86400000) : v;
    if ((d === "string" || d === "large_string") && v instanceof Uint8Array) return utf8.decode(v);
  }
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map((x) => valueToJs(x, kind === "List" ? (f as ListFeature).feature : undefined));
  if (v && typeof v === "object" && !(v instanceof Uint8Array) && !(v instanceof Date) && !ArrayBuffer.isView(v)) {
    const out: Record<string, unknown> = {};
    const fields: Features | null =
      kind === "struct" ? (f as Features) : kind === "Image" || kind === "Audio" ? MEDIA_FIELDS : null;
    for (const [k, x] of Object.entries(v)) out[k] = valueToJs(x, fields?.[k]);
    return out;
  }
  return v;
}

const utf8 = new TextDecoder();

/** A column read from Parquet in the plain JS form rows and batches use elsewhere. */
export function parquetColumnToJs(col: Column, f: Feature): Column {
  if (col instanceof BigInt64Array || col instanceof BigUint64Array) return Array.from(col, (v) => valueToJs(v, f));
  if (ArrayBuffer.isView(col)) return col;
  return Array.from(col as ArrayLike<unknown>, (v) => valueToJs(v, f));
}
