/**
 * `IterableDataset`: rows read lazily from files (Parquet one row group at a time, Arrow batch by
 * batch, text formats file by file), through a chain of `map`/`filter`/`take`/`skip`/buffered
 * `shuffle`/`shard`. Iteration is resumable: `stateDict()` records where every stage stands
 * (file, row, counters) and `loadStateDict()` continues from there. As in Python, rows that sat in
 * a shuffle buffer at checkpoint time are not replayed.
 */

import type { AsyncBuffer } from "hyparquet";
import { type Column, dataToColumn, featuresFromSchema } from "../arrow/convert.ts";
import { readArrowBatches } from "../arrow/ipc.ts";
import { decodeColumn } from "../dataset/cells.ts";
import { updateFingerprint } from "../dataset/fingerprint.ts";
import type { MapFunction } from "../dataset/map.ts";
import { randomSeed, SeededRandom } from "../dataset/rng.ts";
import { fail } from "../errors.ts";
import type { Features } from "../features/features.ts";
import { type BuilderName, type BuilderOptions, PARQUET_SLICE, readSplit } from "../loaders/builders.ts";
import { openParquet, parquetColumnToJs, readParquetRows } from "../loaders/parquet.ts";

type Row = Record<string, unknown>;
type State = Record<string, unknown>;

/** One stage of a streaming pipeline. */
interface Stage {
  /** Rows from the saved position (`resume`), updating `state()` as rows are produced. */
  rows(resume: State | null): AsyncGenerator<Row>;
  /** Position after the last row produced. */
  state(): State;
  /** Identity of this stage, for state checks. */
  readonly id: string;
}

function rowsOf(columns: Record<string, Column>, i: number): Row {
  const row: Row = {};
  for (const [k, c] of Object.entries(columns)) row[k] = (c as ArrayLike<unknown>)[i];
  return row;
}

/** Reads files in order; state = next file and next row within it. */
class FilesStage implements Stage {
  readonly id: string;
  private pos = { file: 0, row: 0 };
  constructor(
    private readonly builder: BuilderName,
    private readonly files: string[],
    private readonly options: BuilderOptions & { remote?: Map<string, () => Promise<AsyncBuffer>> },
  ) {
    this.id = updateFingerprint("files", builder, { files });
  }
  state(): State {
    return { file: this.pos.file, row: this.pos.row };
  }
  async *rows(resume: State | null): AsyncGenerator<Row> {
    this.pos = { file: (resume?.file as number) ?? 0, row: (resume?.row as number) ?? 0 };
    for (let f = this.pos.file; f < this.files.length; f++) {
      const path = this.files[f];
      const skipRows = f === this.pos.file ? this.pos.row : 0;
      this.pos = { file: f, row: skipRows };
      let at = 0;
      for await (const batch of this.fileBatches(path, skipRows)) {
        const features = batch.features;
        const decoded: Record<string, Column> = {};
        for (const [k, c] of Object.entries(batch.columns)) decoded[k] = features[k] ? decodeColumn(c, features[k]) : c;
        for (let i = 0; i < batch.length; i++) {
          const rowIndex = batch.start + i;
          if (rowIndex < skipRows) continue;
          at = rowIndex + 1;
          this.pos = { file: f, row: at };
          yield rowsOf(decoded, i);
        }
      }
      this.pos = { file: f + 1, row: 0 };
    }
  }
  /** Batches of a file starting at or before `from` (row groups before it are skipped unread). */
  private async *fileBatches(
    path: string,
    from: number,
  ): AsyncGenerator<{ columns: Record<string, Column>; length: number; start: number; features: Features }> {
    if (this.builder === "parquet") {
      const remote = this.options.remote?.get(path);
      const src = await openParquet(path, remote ? await remote() : undefined);
      for (const rg of src.rowGroups) {
        if (rg.end <= from) continue;
        for (let a = Math.max(rg.start, from); a < rg.end; a += PARQUET_SLICE) {
          const b = await readParquetRows(src, a, Math.min(rg.end, a + PARQUET_SLICE));
          // Plain JS values, as the Arrow-backed Dataset gives them (int64 → number, timestamps →
          // Date), converted a slice at a time so the converted values die young.
          for (let s = Math.max(0, from - a); s < b.length; s += 8192) {
            const e = Math.min(b.length, s + 8192);
            const columns: Record<string, Column> = {};
            for (const [k, c] of Object.entries(b.columns)) {
              const part = ArrayBuffer.isView(c) ? (c as Float64Array).subarray(s, e) : (c as unknown[]).slice(s, e);
              columns[k] = parquetColumnToJs(part, src.features[k]);
            }
            yield { columns, length: e - s, start: a + s, features: src.features };
          }
        }
      }
      return;
    }
    if (this.builder === "arrow") {
      let start = 0;
      for (const batch of readArrowBatches(path)) {
        const n = batch.numRows;
        if (start + n > from) {
          const features = featuresFromSchema(batch.schema);
          const columns: Record<string, Column> = {};
          batch.schema.fields.forEach((fl, i) => {
            columns[fl.name] = dataToColumn(batch.data.children[i], features[fl.name], false);
          });
          yield { columns, length: n, start, features };
        }
        start += n;
      }
      return;
    }
    const { features, batches } = await readSplit(this.builder, [path], this.options);
    let start = 0;
    for await (const b of batches()) {
      yield { ...b, start, features };
      start += b.length;
    }
  }
}

/** Row-wise or batched map; state = upstream state at the current batch start + outputs already given. */
class MapStage implements Stage {
  readonly id: string;
  private current: State = {};
  constructor(
    private readonly up: Stage,
    private readonly fn: MapFunction,
    private readonly options: { batched?: boolean; batchSize?: number; removeColumns?: string[]; replace?: boolean },
    /** Arguments the function closes over, so two pipelines differing only in them get different ids. */
    args: Record<string, unknown> = {},
  ) {
    this.id = updateFingerprint(up.id, "map", { fn, ...options, args });
  }
  state(): State {
    return this.current;
  }
  async *rows(resume: State | null): AsyncGenerator<Row> {
    const remove = new Set(this.options.removeColumns ?? []);
    const apply = (row: Row, r: unknown): Row => {
      if (this.options.replace) return { ...((r ?? {}) as Row) };
      const out: Row = {};
      for (const [k, v] of Object.entries(row)) if (!remove.has(k)) out[k] = v;
      return Object.assign(out, (r ?? {}) as Row);
    };
    if (!this.options.batched) {
      for await (const row of this.up.rows((resume?.up as State) ?? null)) {
        const r = await this.fn(row);
        this.current = { up: this.up.state(), given: 0 };
        yield apply(row, r);
      }
      return;
    }
    const size = this.options.batchSize ?? 1000;
    let skip = (resume?.given as number) ?? 0;
    let batchStart: State = (resume?.up as State) ?? {};
    let buffer: Row[] = [];
    const self = this;
    async function* flush(): AsyncGenerator<Row> {
      if (buffer.length === 0) return;
      const cols: Record<string, unknown[]> = {};
      for (const k of Object.keys(buffer[0])) cols[k] = buffer.map((r) => r[k]);
      const res = ((await self.fn(cols)) ?? {}) as Record<string, Column>;
      const n = Object.values(res)[0]?.length ?? buffer.length;
      const keepInputs = n === buffer.length;
      for (let i = 0; i < n; i++) {
        const out: Row = {};
        if (keepInputs) for (const [k, c] of Object.entries(cols)) if (!remove.has(k) && !(k in res)) out[k] = c[i];
        for (const [k, c] of Object.entries(res)) out[k] = (c as ArrayLike<unknown>)[i];
        self.current = { up: batchStart, given: i + 1 };
        if (skip > 0) {
          skip--;
          continue;
        }
        yield out;
      }
      buffer = [];
    }
    for await (const row of this.up.rows((resume?.up as State) ?? null)) {
      buffer.push(row);
      if (buffer.length === size) {
        yield* flush();
        batchStart = this.up.state();
        this.current = { up: batchStart, given: 0 };
      }
    }
    yield* flush();
  }
}

class FilterStage implements Stage {
  readonly id: string;
  private current: State = {};
  constructor(
    private readonly up: Stage,
    private readonly fn: MapFunction,
  ) {
    this.id = updateFingerprint(up.id, "filter", { fn });
  }
  state(): State {
    return this.current;
  }
  async *rows(resume: State | null): AsyncGenerator<Row> {
    for await (const row of this.up.rows((resume?.up as State) ?? null)) {
      const keep = await this.fn(row);
      this.current = { up: this.up.state() };
      if (keep) yield row;
    }
  }
}

/** take (limit) or skip (offset); state = rows counted so far. */
class CountStage implements Stage {
  readonly id: string;
  private current: State = { up: {}, seen: 0 };
  constructor(
    private readonly up: Stage,
    private readonly kind: "take" | "skip",
    private readonly n: number,
  ) {
    this.id = updateFingerprint(up.id, kind, { n });
  }
  state(): State {
    return this.current;
  }
  async *rows(resume: State | null): AsyncGenerator<Row> {
    let seen = (resume?.seen as number) ?? 0;
    if (this.kind === "take" && seen >= this.n) return;
    for await (const row of this.up.rows((resume?.up as State) ?? null)) {
      seen++;
      this.current = { up: this.up.state(), seen };
      if (this.kind === "skip" && seen <= this.n) continue;
      yield row;
      if (this.kind === "take" && seen >= this.n) return;
    }
  }
}

/** Buffered shuffle: fill `bufferSize` rows, then emit a random one per incoming row. */
class ShuffleStage implements Stage {
  readonly id: string;
  private current: State = {};
  constructor(
    private readonly up: Stage,
    private readonly seed: number,
    private readonly bufferSize: number,
  ) {
    this.id = updateFingerprint(up.id, "shuffle", { seed, bufferSize });
  }
  state(): State {
    return this.current;
  }
  async *rows(resume: State | null): AsyncGenerator<Row> {
    const epoch = ((resume?.epoch as number) ?? -1) + 1;
    const rng = new SeededRandom((this.seed + epoch * 0x9e3779b1) >>> 0);
    const buffer: Row[] = [];
    for await (const row of this.up.rows((resume?.up as State) ?? null)) {
      this.current = { up: this.up.state(), epoch };
      if (buffer.length < this.bufferSize) {
        buffer.push(row);
        continue;
      }
      const i = rng.below(buffer.length);
      const out = buffer[i];
      buffer[i] = row;
      yield out;
    }
    rng.shuffle(buffer);
    yield* buffer;
  }
}

/**
 * A lazily read dataset.
 *
 * @example
 * import { loadDataset } from "@hearth/datasets";
 * const stream = await loadDataset("parquet", { dataFiles: "big.parquet", split: "train", streaming: true });
 * for await (const row of stream.filter((r) => r.delay > 0).take(5)) console.log(row);
 */
export class IterableDataset {
  private resume: State | null = null;

  /** @internal */
  constructor(
    private readonly stage: Stage,
    readonly split: string | null = null,
  ) {}

  /** Streams the rows of files with a builder (`parquet`, `csv`, `json`, `text`, `arrow`, folders). */
  static fromFiles(
    builder: BuilderName,
    files: string[],
    options: BuilderOptions & { split?: string; remote?: Map<string, () => Promise<AsyncBuffer>> } = {},
  ): IterableDataset {
    return new IterableDataset(new FilesStage(builder, files, options), options.split ?? null);
  }

  private chain(stage: Stage): IterableDataset {
    return new IterableDataset(stage, this.split);
  }

  /** Applies `fn` to each row (or batch of columns with `batched: true`) as rows stream by. */
  map(
    fn: MapFunction,
    options: { batched?: boolean; batchSize?: number; removeColumns?: string[] } = {},
  ): IterableDataset {
    return this.chain(new MapStage(this.stage, fn, options));
  }
  /** Keeps rows for which `fn` is true. */
  filter(fn: MapFunction): IterableDataset {
    return this.chain(new FilterStage(this.stage, fn));
  }
  /** The first `n` rows. */
  take(n: number): IterableDataset {
    return this.chain(new CountStage(this.stage, "take", n));
  }
  /** All rows after the first `n`. */
  skip(n: number): IterableDataset {
    return this.chain(new CountStage(this.stage, "skip", n));
  }
  /** Approximate shuffle through a buffer of `bufferSize` rows (default 1000). */
  shuffle(options: { seed?: number; bufferSize?: number } = {}): IterableDataset {
    return this.chain(new ShuffleStage(this.stage, options.seed ?? randomSeed(), options.bufferSize ?? 1000));
  }
  /** Drops columns from every row. */
  removeColumns(columns: string | string[]): IterableDataset {
    const cols = Array.isArray(columns) ? columns : [columns];
    return this.chain(new MapStage(this.stage, () => ({}), { removeColumns: cols }));
  }
  /** Keeps only the given columns, in that order. */
  selectColumns(columns: string | string[]): IterableDataset {
    const cols = Array.isArray(columns) ? columns : [columns];
    const pick = (row: Record<string, unknown>) => Object.fromEntries(cols.map((c) => [c, row[c] ?? null]));
    return this.chain(new MapStage(this.stage, pick, { replace: true }, { select: cols }));
  }
  /** Renames one column. */
  renameColumn(from: string, to: string): IterableDataset {
    const rename = (row: Record<string, unknown>) => ({ [to]: row[from] });
    return this.chain(new MapStage(this.stage, rename, { removeColumns: [from] }, { from, to }));
  }
  /** Rows `index`, `index + numShards`, ... (for data-parallel workers). */
  shard(options: { numShards: number; index: number }): IterableDataset {
    const { numShards, index } = options;
    if (!(index >= 0 && index < numShards))
      throw fail("HEARTH_DATASETS_BAD_ARGUMENT", `shard: index ${index} is outside [0, ${numShards})`);
    let i = -1;
    const pick = () => {
      i++;
      return i % numShards === index;
    };
    const stage = new FilterStage(this.stage, pick);
    return this.chain(stage);
  }

  /** Where iteration stands (after the last row yielded); JSON-serialisable. */
  stateDict(): State {
    return { pipeline: this.stage.id, state: this.stage.state() };
  }
  /** Continues the next iteration from a {@link stateDict}. */
  loadStateDict(state: State): void {
    if (state.pipeline !== this.stage.id) {
      throw fail(
        "HEARTH_DATASETS_STATE_MISMATCH",
        "loadStateDict: the state was saved from a different pipeline (files, transforms or arguments differ)",
      );
    }
    this.resume = state.state as State;
  }

  /** Rows, from the loaded state if any. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Row> {
    const resume = this.resume;
    this.resume = null;
    yield* this.stage.rows(resume);
  }

  /** Batches of `batchSize` rows as columns. */
  async *iter(options: { batchSize?: number } = {}): AsyncGenerator<Record<string, unknown[]>> {
    const size = options.batchSize ?? 1000;
    let rows: Row[] = [];
    const toCols = () => {
      const cols: Record<string, unknown[]> = {};
      for (const k of Object.keys(rows[0] ?? {})) cols[k] = rows.map((r) => r[k]);
      return cols;
    };
    for await (const row of this) {
      rows.push(row);
      if (rows.length === size) {
        yield toCols();
        rows = [];
      }
    }
    if (rows.length) yield toCols();
  }

  /** Collects up to `n` rows into an array. */
  async toList(n = Number.POSITIVE_INFINITY): Promise<Row[]> {
    const out: Row[] = [];
    if (n <= 0) return out;
    for await (const row of this) {
      out.push(row);
      if (out.length >= n) break;
    }
    return out;
  }
}

/** Streaming splits by name. */
export class IterableDatasetDict extends Map<string, IterableDataset> {}
