/** Dataset preview: the first rows of a Parquet, CSV/TSV or JSON Lines file in the repo. */
import { parquetReadObjects } from "hyparquet";

export interface Preview {
  file: string;
  columns: string[];
  rows: Array<Record<string, unknown>>;
}

export const previewable = (path: string): boolean => /\.(parquet|csv|tsv|jsonl|ndjson)$/i.test(path);

/** Splits CSV text into records, honouring quotes ("" escapes, quoted newlines). */
export function parseCsv(text: string, sep: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if ((field || row.length) && rows.length < maxRows) rows.push([...row, field]);
  return rows;
}

/** Reads up to `limit` rows. `bytes` is the whole file for Parquet, a prefix for text formats. */
export async function previewRows(file: string, bytes: Buffer, limit = 20): Promise<Preview> {
  const ext = (file.split(".").pop() ?? "").toLowerCase();
  if (ext === "parquet") {
    const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const rows = (await parquetReadObjects({ file: ab, rowEnd: limit })) as Array<Record<string, unknown>>;
    return { file, columns: rows[0] ? Object.keys(rows[0]) : [], rows };
  }
  const text = bytes.toString("utf8");
  if (ext === "jsonl" || ext === "ndjson") {
    const rows: Array<Record<string, unknown>> = [];
    for (const line of text.split("\n")) {
      if (rows.length >= limit) break;
      if (!line.trim()) continue;
      try {
        const v = JSON.parse(line) as unknown;
        rows.push(v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v });
      } catch {
        break; // a cut-off last line of the prefix
      }
    }
    const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    return { file, columns, rows };
  }
  const table = parseCsv(text, ext === "tsv" ? "\t" : ",", limit + 1);
  const columns = table[0] ?? [];
  const rows = table.slice(1).map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? ""])));
  return { file, columns, rows };
}

/** Display form of a cell value. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return `<${v.length} bytes>`;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "object") return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
  return String(v);
}
