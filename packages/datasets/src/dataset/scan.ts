/**
 * Reading a dataset's rows as JS columns, batch by batch: sequentially through a bounded read
 * buffer when there is no index mapping, or gathered from the mapped files through the mapping.
 */
import { type Data, type RecordBatch, type Table, Type } from "apache-arrow";
import { type Column, dataToColumn, isTypedArray, toJs } from "../arrow/convert.ts";
import { readArrowBatches } from "../arrow/ipc.ts";
import { fail } from "../errors.ts";
import type { Feature, Features } from "../features/features.ts";

/** One batch of logical rows `[start, start + length)` as JS columns. */
export interface ColumnBatch {
  start: number;
  length: number;
  columns: Record<string, Column>;
  /**
   * The same rows as Arrow data, when the batch is one slice of a file batch (sequential scans).
   * It points into the recycled read buffer: valid only until the scan resumes.
   */
  arrow?: Record<string, Data>;
}

/** What a scan needs to know about a dataset. */
export interface ScanSource {
  files: string[];
  indices: Uint32Array | null;
  features: Features;
  table(): Table;
}

/** Concatenates column pieces (typed arrays stay typed when all pieces share a constructor). */
export function concatColumns(pieces: Column[]): Column {
  if (pieces.length === 1) return pieces[0];
  const first = pieces[0];
  if (isTypedArray(first) && pieces.every((p) => p.constructor === first.constructor)) {
    const total = pieces.reduce((n, p) => n + p.length, 0);
    const Ctor = first.constructor as new (n: number) => Float64Array;
    const out = new Ctor(total);
    let off = 0;
    for (const p of pieces) {
      out.set(p as Float64Array, off);
      off += p.length;
    }
    return out;
  }
  const out: unknown[] = [];
  for (const p of pieces) for (let i = 0; i < p.length; i++) out.push((p as ArrayLike<unknown>)[i]);
  return out;
}

/** Columns of a batch, copied out of the (recycled) read buffer. */
function batchColumns(batch: RecordBatch, names: string[], features: Features, typed: boolean): Record<string, Column> {
  const out: Record<string, Column> = {};
  for (const name of names) {
    const idx = batch.schema.fields.findIndex((f) => f.name === name);
    const col = dataToColumn(batch.data.children[idx], features[name], typed);
    out[name] = isTypedArray(col) ? (col as Float64Array).slice() : col;
  }
  return out;
}

/**
 * Columns of a batch converted on first access (each is then a copy, valid for good). Returns a
 * function that retires the batch: a column never read before then throws, because the read
 * buffer under it is about to be reused.
 */
function lazyColumns(
  batch: RecordBatch,
  names: string[],
  features: Features,
  typed: boolean,
): { columns: Record<string, Column>; retire: () => void } {
  const out: Record<string, Column> = {};
  let retired = false;
  for (const name of names) {
    const idx = batch.schema.fields.findIndex((f) => f.name === name);
    Object.defineProperty(out, name, {
      enumerable: true,
      configurable: true,
      get() {
        if (retired) {
          throw fail(
            "HEARTH_DATASETS_BAD_ARGUMENT",
            `batch column '${name}' was first read after the scan moved on to the next batch; read (or copy) the columns you need while the batch is current`,
          );
        }
        const col = dataToColumn(batch.data.children[idx], features[name], typed);
        const value = isTypedArray(col) ? (col as Float64Array).slice() : col;
        Object.defineProperty(out, name, { value, enumerable: true, configurable: true, writable: true });
        return value;
      },
    });
  }
  return { columns: out, retire: () => (retired = true) };
}

/**
 * Yields logical rows `[from, to)` in batches of `batchSize` (the last may be shorter).
 * `columns` limits which columns are read; `typed` gives numeric columns as typed arrays.
 */
export function* scanColumns(
  src: ScanSource,
  options: { batchSize: number; columns: string[]; typed: boolean; from?: number; to?: number },
): Generator<ColumnBatch> {
  const { batchSize, columns, typed } = options;
  const total = src.indices ? src.indices.length : src.table().numRows;
  const from = options.from ?? 0;
  const to = Math.min(options.to ?? total, total);
  if (to <= from) return;
  if (src.indices) {
    const table = src.table();
    for (let start = from; start < to; start += batchSize) {
      const end = Math.min(start + batchSize, to);
      const rows = src.indices.subarray(start, end);
      const cols: Record<string, Column> = {};
      for (const name of columns) cols[name] = gatherColumn(table, name, src.features[name], rows, typed);
      yield { start, length: end - start, columns: cols };
    }
    return;
  }
  // Sequential: read batches in file order, skipping to `from`, regrouping to `batchSize` rows.
  // Only the rows of each output batch are converted (Arrow slices are free); a remainder shorter
  // than a batch is carried over, already copied out of the recycled read buffer.
  if (columns.length === 0) {
    for (let start = from; start < to; start += batchSize) {
      yield { start, length: Math.min(batchSize, to - start), columns: {} };
    }
    return;
  }
  let pos = 0;
  let emitted = from;
  let carry: Record<string, Column>[] = [];
  let carryRows = 0;
  const joinCarry = (): ColumnBatch => {
    const cols: Record<string, Column> = {};
    for (const c of columns) cols[c] = concatColumns(carry.map((t) => t[c]));
    const out = { start: emitted, length: carryRows, columns: cols };
    emitted += carryRows;
    carry = [];
    carryRows = 0;
    return out;
  };
  // From the start: stream each file through a small recycled buffer. From an offset (a worker's
  // shard): the mapped batches, so the rows before it are skipped without being read.
  const sources: Iterable<RecordBatch>[] =
    from === 0 ? src.files.map((f) => readArrowBatches(f, true)) : [src.table().batches as RecordBatch[]];
  for (const batches of sources) {
    for (const batch of batches) {
      const bStart = pos;
      const bEnd = pos + batch.numRows;
      pos = bEnd;
      if (bEnd <= from) continue;
      if (bStart >= to) break;
      let at = Math.max(from, bStart) - bStart;
      const stop = Math.min(to, bEnd) - bStart;
      while (at < stop) {
        const take = Math.min(batchSize - carryRows, stop - at);
        const piece = at === 0 && take === batch.numRows ? batch : batch.slice(at, at + take);
        at += take;
        if (carryRows === 0 && take === batchSize) {
          // A whole output batch from one file batch: columns convert lazily, Arrow data rides along.
          const arrow: Record<string, Data> = {};
          for (const c of columns) arrow[c] = piece.data.children[piece.schema.fields.findIndex((f) => f.name === c)];
          const lazy = lazyColumns(piece, columns, src.features, typed);
          yield { start: emitted, length: take, columns: lazy.columns, arrow };
          lazy.retire();
          emitted += take;
        } else {
          carry.push(batchColumns(piece, columns, src.features, typed));
          carryRows += take;
          if (carryRows === batchSize) yield joinCarry();
        }
      }
    }
    if (pos >= to) break;
  }
  if (carryRows > 0) yield joinCarry();
}

/** Locates physical rows in a table's batches (binary search over batch offsets). */
export class RowLocator {
  private readonly offsets: Float64Array;
  constructor(readonly table: Table) {
    this.offsets = new Float64Array(table.batches.length + 1);
    table.batches.forEach((b, i) => {
      this.offsets[i + 1] = this.offsets[i] + b.numRows;
    });
  }
  /** [batch index, row within batch]. */
  locate(row: number): [number, number] {
    let lo = 0;
    let hi = this.table.batches.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= row) lo = mid;
      else hi = mid - 1;
    }
    return [lo, row - this.offsets[lo]];
  }
}

const locators = new WeakMap<Table, RowLocator>();

function locator(table: Table): RowLocator {
  let l = locators.get(table);
  if (!l) {
    l = new RowLocator(table);
    locators.set(table, l);
  }
  return l;
}

const textDecoder = new TextDecoder();

/** Gathers physical rows of one column from a (mapped) table. */
export function gatherColumn(
  table: Table,
  name: string,
  feature: Feature,
  rows: ArrayLike<number>,
  typed: boolean,
): Column {
  const ci = table.schema.fields.findIndex((f) => f.name === name);
  const loc = locator(table);
  const n = rows.length;
  const children: Data[] = table.batches.map((b) => b.data.children[ci]);
  const t = children[0]?.type;
  const allNonNull = children.every((d) => d.nullCount === 0);
  if (t && allNonNull && (t.typeId === Type.Float || t.typeId === Type.Int)) {
    const first = children[0].values as Float64Array;
    const is64Int = first instanceof BigInt64Array || first instanceof BigUint64Array;
    const sameCtor =
      typed && !is64Int && !(t.typeId === Type.Float && (t as unknown as { precision: number }).precision === 0);
    const out = sameCtor ? new (first.constructor as new (n: number) => Float64Array)(n) : new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const [b, r] = loc.locate(rows[i]);
      const d = children[b];
      const v = (d.values as Float64Array)[r];
      out[i] = is64Int ? Number(v) : v;
    }
    return out;
  }
  if (t && allNonNull && t.typeId === Type.Utf8) {
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const [b, r] = loc.locate(rows[i]);
      const d = children[b];
      const off = d.valueOffsets as Int32Array;
      out[i] = textDecoder.decode((d.values as Uint8Array).subarray(off[r], off[r + 1]));
    }
    return out;
  }
  const out = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const [b, r] = loc.locate(rows[i]);
    out[i] = toJs(table.batches[b].getChildAt(ci)?.get(r), feature);
  }
  return out;
}
