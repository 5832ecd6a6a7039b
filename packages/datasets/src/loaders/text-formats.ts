/**
 * CSV, JSON / JSON Lines and plain-text readers. Each returns the file's rows as JS columns with
 * inferred features; `.gz` files are decompressed first. Errors name the file and the line.
 */
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { type Column, inferFeature } from "../arrow/convert.ts";
import { fail } from "../errors.ts";
import type { Features } from "../features/features.ts";

/** Rows of one file as columns, with their features. */
export interface FileTable {
  columns: Record<string, Column>;
  length: number;
  features: Features;
}

/** The file's text (gunzipped when it ends in `.gz` or starts with the gzip magic). */
export function readText(path: string): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw fail("HEARTH_DATASETS_FILE_NOT_FOUND", `load: cannot read '${path}': ${(error as Error).message}`, error);
  }
  if (path.endsWith(".gz") || (bytes[0] === 0x1f && bytes[1] === 0x8b)) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw fail(
        "HEARTH_DATASETS_JSON_SYNTAX",
        `load: '${path}' is not valid gzip: ${(error as Error).message}`,
        error,
      );
    }
  }
  let text = bytes.toString("utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return text;
}

function inferAll(columns: Record<string, Column>): Features {
  const f: Features = {};
  for (const [k, v] of Object.entries(columns)) f[k] = inferFeature(v, k);
  return f;
}

/** Options of the CSV reader (pandas' names where they exist). */
export interface CsvOptions {
  sep?: string;
  quote?: string;
  /** Column names to use instead of a header line. */
  columnNames?: string[];
}

/** Parses CSV (RFC 4180 quoting, CRLF or LF) and infers int64/float64/bool/string per column. */
export function readCsv(path: string, options: CsvOptions = {}): FileTable {
  const text = readText(path);
  const sep = options.sep ?? ",";
  const quote = options.quote ?? '"';
  const records: string[][] = [];
  const lines: number[] = [];
  let field = "";
  let record: string[] = [];
  let inQuotes = false;
  let line = 1;
  let recordLine = 1;
  let quoteLine = 0;
  let fieldStarted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inQuotes) {
      if (ch === quote) {
        if (text[i + 1] === quote) {
          field += quote;
          i++;
        } else inQuotes = false;
      } else {
        if (ch === "\n") line++;
        field += ch;
      }
      continue;
    }
    if (ch === quote && !fieldStarted) {
      inQuotes = true;
      fieldStarted = true;
      quoteLine = line;
    } else if (ch === sep) {
      record.push(field);
      field = "";
      fieldStarted = false;
    } else if (ch === "\n" || ch === "\r") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      record.push(field);
      if (!(record.length === 1 && record[0] === "" && !fieldStarted)) {
        records.push(record);
        lines.push(recordLine);
      }
      record = [];
      field = "";
      fieldStarted = false;
      line++;
      recordLine = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (inQuotes) {
    throw fail("HEARTH_DATASETS_CSV_SYNTAX", `csv: '${path}' line ${quoteLine}: a quoted field is never closed`);
  }
  if (field !== "" || record.length > 0 || fieldStarted) {
    record.push(field);
    records.push(record);
    lines.push(recordLine);
  }
  const header = options.columnNames ?? records.shift() ?? [];
  if (!options.columnNames) lines.shift();
  const width = header.length;
  const columns: Record<string, string[]> = {};
  for (const name of header) columns[name] = [];
  records.forEach((r, k) => {
    if (r.length !== width) {
      throw fail(
        "HEARTH_DATASETS_CSV_RAGGED",
        `csv: '${path}' line ${lines[k]}: expected ${width} fields (as the header), got ${r.length}`,
      );
    }
    for (let j = 0; j < width; j++) columns[header[j]].push(r[j]);
  });
  const out: Record<string, Column> = {};
  for (const name of header) out[name] = convertCsvColumn(columns[name]);
  return { columns: out, length: records.length, features: inferAll(out) };
}

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|nan|NaN|inf|-inf|Infinity|-Infinity)$/;

/** pandas-style inference: all integers → numbers (int64), numeric → float64, True/False → bool. */
function convertCsvColumn(values: string[]): Column {
  const present = values.filter((v) => v !== "");
  if (present.length > 0 && present.every((v) => INT_RE.test(v) && Number.isSafeInteger(Number(v)))) {
    // pandas turns an integer column with gaps into float64 (NaN); keep the nulls as nulls instead.
    return values.map((v) => (v === "" ? null : Number(v)));
  }
  if (present.length > 0 && present.every((v) => FLOAT_RE.test(v))) {
    const out = values.map((v) =>
      v === "" ? null : v.toLowerCase().includes("inf") ? (v.startsWith("-") ? -Infinity : Infinity) : Number(v),
    );
    // Mark as float even when every value happens to be whole ("1.0").
    return values.some((v) => v.includes(".") || /[eEn]/.test(v)) && out.every((v) => v === null || Number.isInteger(v))
      ? Float64Array.from(out, (v) => (v === null ? Number.NaN : v))
      : out;
  }
  if (present.length > 0 && present.every((v) => v === "True" || v === "False" || v === "true" || v === "false")) {
    return values.map((v) => (v === "" ? null : v === "True" || v === "true"));
  }
  return values.map((v) => (v === "" ? null : v));
}

/** Options of the JSON reader. */
export interface JsonOptions {
  /** For a single JSON document: the key whose value holds the rows. */
  field?: string;
}

/**
 * Reads JSON Lines (one object per line) or one JSON document: a list of row objects, an object of
 * equal-length columns, or (with `field`) the rows under one key. A line that does not parse
 * raises HEARTH_DATASETS_JSON_SYNTAX naming the file and line.
 */
export function readJson(path: string, options: JsonOptions = {}): FileTable {
  const text = readText(path);
  const trimmed = text.trimStart();
  let rows: Record<string, unknown>[] | null = null;
  let columns: Record<string, unknown[]> | null = null;
  const wholeDocument =
    trimmed.startsWith("[") || options.field !== undefined || (trimmed.startsWith("{") && !looksLikeJsonLines(trimmed));
  if (wholeDocument) {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (error) {
      throw fail(
        "HEARTH_DATASETS_JSON_SYNTAX",
        `json: '${path}' is not valid JSON: ${(error as Error).message}`,
        error,
      );
    }
    if (options.field !== undefined) {
      if (!doc || typeof doc !== "object" || !(options.field in (doc as object))) {
        throw fail("HEARTH_DATASETS_JSON_SHAPE", `json: '${path}' has no top-level field '${options.field}'`);
      }
      doc = (doc as Record<string, unknown>)[options.field];
    }
    if (Array.isArray(doc)) rows = doc as Record<string, unknown>[];
    else if (doc && typeof doc === "object" && Object.values(doc).every(Array.isArray))
      columns = doc as Record<string, unknown[]>;
    else
      throw fail("HEARTH_DATASETS_JSON_SHAPE", `json: '${path}' must hold a list of objects or an object of columns`);
  } else {
    rows = [];
    let lineNo = 0;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf("\n", start);
      if (end < 0) end = text.length;
      lineNo++;
      const line = text.slice(start, end).trim();
      start = end + 1;
      if (line === "") continue;
      let obj: unknown;
      try {
        obj = JSON.parse(line);
      } catch (error) {
        throw fail(
          "HEARTH_DATASETS_JSON_SYNTAX",
          `json: '${path}' line ${lineNo} does not parse: ${(error as Error).message}`,
          error,
        );
      }
      if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
        throw fail(
          "HEARTH_DATASETS_JSON_SHAPE",
          `json: '${path}' line ${lineNo}: expected an object, got ${Array.isArray(obj) ? "an array" : typeof obj}`,
        );
      }
      rows.push(obj as Record<string, unknown>);
    }
  }
  if (rows) {
    const names: string[] = [];
    const seen = new Set<string>();
    rows.forEach((r, i) => {
      if (!r || typeof r !== "object" || Array.isArray(r)) {
        throw fail("HEARTH_DATASETS_JSON_SHAPE", `json: '${path}' row ${i} is not an object`);
      }
      for (const k of Object.keys(r)) {
        if (!seen.has(k)) {
          seen.add(k);
          names.push(k);
        }
      }
    });
    columns = {};
    for (const k of names) columns[k] = rows.map((r) => r[k] ?? null);
  }
  const cols = columns ?? {};
  const lens = new Set(Object.values(cols).map((c) => c.length));
  if (lens.size > 1) throw fail("HEARTH_DATASETS_JSON_SHAPE", `json: '${path}' columns have different lengths`);
  const length = rows ? rows.length : lens.size ? [...lens][0] : 0;
  return { columns: cols, length, features: inferAll(cols) };
}

function looksLikeJsonLines(text: string): boolean {
  const nl = text.indexOf("\n");
  if (nl < 0) return false;
  const first = text.slice(0, nl).trim();
  try {
    JSON.parse(first);
    return true;
  } catch {
    return false;
  }
}

/** Options of the text reader (Python's `sample_by`). */
export interface TextOptions {
  /** One row per line (default), per blank-line-separated paragraph, or per file. */
  sampleBy?: "line" | "paragraph" | "document";
  /** Keep line endings. */
  keepLinebreaks?: boolean;
}

/** Reads a text file into a `text` column. */
export function readTextFile(path: string, options: TextOptions = {}): FileTable {
  const text = readText(path);
  let rows: string[];
  const by = options.sampleBy ?? "line";
  if (by === "document") rows = [text];
  else if (by === "paragraph") rows = text.split(/\r?\n\s*\r?\n/).filter((p) => p.trim() !== "");
  else {
    rows = options.keepLinebreaks ? (text.match(/[^\n]*\n|[^\n]+$/g) ?? []) : text.split(/\r?\n/);
    if (!options.keepLinebreaks && rows.length > 0 && rows[rows.length - 1] === "") rows.pop();
  }
  return { columns: { text: rows }, length: rows.length, features: { text: { _type: "Value", dtype: "string" } } };
}
