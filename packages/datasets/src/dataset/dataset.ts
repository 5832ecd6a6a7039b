/**
 * `Dataset`: rows stored in Arrow IPC stream files that are memory-mapped on first random access,
 * plus an optional index mapping (`Uint32Array`, itself a mapped cache file) that `select`,
 * `shuffle`, `filter`, `sort` and splits produce without copying the data, as in Python's
 * `datasets`. Every transform gets a new fingerprint; its result is written to
 * `cache-<fingerprint>.arrow` beside the source files and reused on the next run.
 */
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type RecordBatch, Table } from "apache-arrow";
import { type Column, columnToData, featuresFromSchema, inferFeature, schemaFromFeatures } from "../arrow/convert.ts";
import { makeBatch, mapArrowFile } from "../arrow/ipc.ts";
import { fail } from "../errors.ts";
import { ClassLabel, type Feature, type Features, flattenFeatures } from "../features/features.ts";
import { tensorFormatter } from "../formatting/registry.ts";
import { decodeCell, decodeColumn } from "./cells.ts";
import { castValues, compareValues, flattenColumn } from "./column-ops.ts";
import { hashFingerprint, updateFingerprint } from "./fingerprint.ts";
import { type FromGeneratorOptions, fromGenerator } from "./from-generator.ts";
import { type FilterOptions, filterDataset, type MapFunction, type MapOptions, mapDataset } from "./map.ts";
import { randomSeed, SeededRandom } from "./rng.ts";
import { type ColumnBatch, concatColumns, gatherColumn, scanColumns } from "./scan.ts";
import { readIndicesFile, sliceAny, writeColumnsFile, writeIndicesFile } from "./storage.ts";

/** How rows and batches come out: plain JS values, numeric typed arrays, Arrow, or tensors. */
export interface DatasetFormat {
  type: "js" | "typed" | "arrow" | "tensor";
  columns: string[] | null;
}

/** The internal state of a dataset; every transform returns a new one. */
export interface DatasetState {
  files: string[];
  indices: Uint32Array | null;
  indicesFile: string | null;
  features: Features;
  fingerprint: string;
  split: string | null;
  format: DatasetFormat;
  cacheDir: string;
  /**
   * DatasetInfo fields beyond features, in Python's snake_case (`builder_name`, `config_name`,
   * `splits`, `download_checksums`, ...), set by `loadDataset` and written by `saveToDisk`.
   */
  info?: Record<string, unknown> | null;
}

/** Options shared by transforms that write a cache file. */
export interface CacheOptions {
  /** Reuse an existing cache file for this fingerprint (default true). */
  loadFromCacheFile?: boolean;
  /** Fingerprint to give the result instead of the computed one. */
  newFingerprint?: string;
}

/** The default directory for datasets that do not come from files (like Python's temp cache). */
export function defaultTempCacheDir(): string {
  const dir = join(tmpdir(), "hearth-datasets-cache");
  mkdirSync(dir, { recursive: true });
  return dir;
}

const ROW_BATCH = 1000;

/**
 * An Arrow-backed table of examples.
 *
 * @example
 * import { Dataset } from "@hearth/datasets";
 * const ds = Dataset.fromDict({ text: ["a", "bb", "ccc"], label: [0, 1, 0] });
 * const longer = await ds.map((row) => ({ n: row.text.length }));
 * console.log(longer.get(2)); // { text: "ccc", label: 0, n: 3 }
 */
export class Dataset {
  /** @internal */
  readonly state: DatasetState;
  private mapped: Table | null = null;

  /** @internal Use the static constructors or `loadDataset`. */
  constructor(state: DatasetState) {
    this.state = state;
  }

  /** Builds a dataset from columns of JS values (written to a cache file and mapped back). */
  static fromDict(
    columns: Record<string, Column>,
    options: { features?: Features; split?: string; cacheDir?: string } = {},
  ): Dataset {
    const names = Object.keys(columns);
    const n = names.length ? columns[names[0]].length : 0;
    for (const name of names) {
      if (columns[name].length !== n) {
        throw fail(
          "HEARTH_DATASETS_BAD_ARGUMENT",
          `Dataset.fromDict: column '${name}' has ${columns[name].length} values but '${names[0]}' has ${n}`,
        );
      }
    }
    const features: Features = {};
    for (const name of names) features[name] = options.features?.[name] ?? inferFeature(columns[name], name);
    const fingerprint = hashFingerprint({ fromDict: columns, features });
    const cacheDir = options.cacheDir ?? defaultTempCacheDir();
    const path = join(cacheDir, `cache-${fingerprint}.arrow`);
    if (!existsSync(path)) {
      writeColumnsFile(path, features, fingerprint, function* () {
        for (let s = 0; s < Math.max(n, 1); s += ROW_BATCH) {
          const e = Math.min(n, s + ROW_BATCH);
          const slice: Record<string, Column> = {};
          for (const name of names) slice[name] = sliceAny(columns[name], s, e);
          yield { columns: slice, length: e - s };
        }
      });
    }
    return new Dataset({
      files: [path],
      indices: null,
      indicesFile: null,
      features,
      fingerprint,
      split: options.split ?? null,
      format: { type: "js", columns: null },
      cacheDir,
    });
  }

  /**
   * Builds a dataset from the rows a (sync or async) generator yields, cached by the generator's
   * source and `genKwargs` as in Python.
   *
   * @example
   * const ds = await Dataset.fromGenerator(function* () { for (let i = 0; i < 3; i++) yield { i }; });
   */
  static fromGenerator(
    generator: (
      kwargs: Record<string, unknown>,
    ) => Iterable<Record<string, unknown>> | AsyncIterable<Record<string, unknown>>,
    options: FromGeneratorOptions = {},
  ): Promise<Dataset> {
    return fromGenerator(generator, options);
  }

  /** Builds a dataset from an array of row objects. */
  static fromList(
    rows: Record<string, unknown>[],
    options: { features?: Features; split?: string; cacheDir?: string } = {},
  ): Dataset {
    const names = new Set<string>();
    for (const r of rows) for (const k of Object.keys(r)) names.add(k);
    const cols: Record<string, unknown[]> = {};
    for (const name of names) cols[name] = rows.map((r) => r[name] ?? null);
    return Dataset.fromDict(cols, options);
  }

  /** Opens Arrow IPC files (stream or file format) as one dataset, mapping them lazily. */
  static fromArrowFiles(
    files: string[],
    options: { features?: Features; fingerprint?: string; split?: string } = {},
  ): Dataset {
    if (files.length === 0)
      throw fail("HEARTH_DATASETS_BAD_ARGUMENT", "Dataset.fromArrowFiles: argument 'files' is empty");
    const table = mapArrowFile(files[0]);
    const features = options.features ?? featuresFromTable(table);
    const ds = new Dataset({
      files,
      indices: null,
      indicesFile: null,
      features,
      fingerprint: options.fingerprint ?? hashFingerprint({ files }),
      split: options.split ?? null,
      format: { type: "js", columns: null },
      cacheDir: dirname(files[0]),
    });
    if (files.length === 1) ds.mapped = table;
    return ds;
  }

  /** @internal A copy of this dataset with some state replaced. */
  with(patch: Partial<DatasetState>): Dataset {
    const next = new Dataset({ ...this.state, ...patch });
    if (patch.files === undefined) next.mapped = this.mapped;
    return next;
  }

  /** The mapped Arrow table of all files (physical rows, before the index mapping). */
  table(): Table {
    if (!this.mapped) {
      const tables = this.state.files.map(mapArrowFile);
      const batches = tables.flatMap((t) => t.batches);
      this.mapped = batches.length
        ? new Table(batches as RecordBatch[])
        : new Table(schemaFromFeatures(this.state.features));
    }
    return this.mapped;
  }

  /** Number of rows. */
  get numRows(): number {
    return this.state.indices ? this.state.indices.length : this.table().numRows;
  }
  /** Alias of {@link numRows}. */
  get length(): number {
    return this.numRows;
  }
  /** Column names, in order. */
  get columnNames(): string[] {
    return Object.keys(this.state.features);
  }
  /** `[numRows, numColumns]`. */
  get shape(): [number, number] {
    return [this.numRows, this.columnNames.length];
  }
  /** The column types. */
  get features(): Features {
    return this.state.features;
  }
  /** Identity of this dataset's content and history. */
  get fingerprint(): string {
    return this.state.fingerprint;
  }
  /** The split name, if any. */
  get split(): string | null {
    return this.state.split;
  }
  /** Files backing this dataset (data files, then the index mapping file if any). */
  get cacheFiles(): { filename: string }[] {
    const files = this.state.files.map((filename) => ({ filename }));
    if (this.state.indicesFile) files.push({ filename: this.state.indicesFile });
    return files;
  }
  /** DatasetInfo fields beyond features (Python's names), or null for datasets not loaded from files. */
  get info(): Record<string, unknown> | null {
    return this.state.info ?? null;
  }

  /** The output format (see {@link withFormat}). */
  get format(): DatasetFormat {
    return this.state.format;
  }

  /**
   * Sets the output format: `"js"` (plain values), `"typed"` (numeric columns as typed arrays in
   * batches), `"arrow"` (batches as Arrow tables), or `"tensor"` (numeric columns as
   * `@hearth/tensor` tensors: int64 for integers, float32 for floats, stacked per batch; needs
   * `import "@hearth/datasets/tensor"`);
   * `columns` limits the columns returned.
   */
  withFormat(type: DatasetFormat["type"] | null = "js", columns: string[] | null = null): Dataset {
    if (columns) this.checkColumns(columns, "withFormat");
    if (type === "tensor") tensorFormatter();
    return this.with({ format: { type: type ?? "js", columns } });
  }

  /** @internal Throws unless every name is a column. */
  checkColumns(names: string[], fn: string): void {
    for (const name of names) {
      if (!(name in this.state.features)) {
        throw fail(
          "HEARTH_DATASETS_COLUMN_NOT_FOUND",
          `${fn}: column '${name}' not in the dataset, which has [${this.columnNames.join(", ")}]`,
        );
      }
    }
  }

  private outColumns(): string[] {
    return this.state.format.columns ?? this.columnNames;
  }

  private checkIndex(i: number, fn: string): number {
    const n = this.numRows;
    const j = i < 0 ? n + i : i;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw fail(
        "HEARTH_DATASETS_INDEX_OUT_OF_RANGE",
        `${fn}: row ${i} is outside [0, ${n}) (negative counts from the end)`,
      );
    }
    return j;
  }

  /** One row as an object (Image/Audio cells as lazy objects). Negative indices count from the end. */
  get(i: number): Record<string, unknown> {
    const j = this.checkIndex(i, "get");
    const physical = this.state.indices ? this.state.indices[j] : j;
    const row: Record<string, unknown> = {};
    const rows = [physical];
    for (const name of this.outColumns()) {
      const f = this.state.features[name];
      const v = decodeCell(gatherColumn(this.table(), name, f, rows, false)[0], f);
      row[name] = this.state.format.type === "tensor" ? tensorFormatter().value(v, f) : v;
    }
    return row;
  }

  /** Rows `[start, end)` as columns (the batch form that batched `map` receives). */
  getBatch(start: number, end: number): Record<string, Column> {
    const n = this.numRows;
    const s = Math.max(0, Math.min(start, n));
    const e = Math.max(s, Math.min(end, n));
    const typed = this.state.format.type !== "js";
    const out: Record<string, Column> = {};
    for (const b of scanColumns(this.scanSource(), {
      batchSize: e - s || 1,
      columns: this.outColumns(),
      typed,
      from: s,
      to: e,
    })) {
      for (const [k, v] of Object.entries(b.columns))
        out[k] = this.formatColumn(decodeColumn(v, this.state.features[k]), k);
    }
    if (s === e) for (const k of this.outColumns()) out[k] = [];
    return out;
  }

  /** A whole column as JS values. */
  column(name: string): Column {
    this.checkColumns([name], "column");
    const pieces: Column[] = [];
    const typed = this.state.format.type !== "js";
    for (const b of scanColumns(this.scanSource(), { batchSize: 65536, columns: [name], typed }))
      pieces.push(b.columns[name]);
    return pieces.length ? decodeColumn(concatColumns(pieces), this.state.features[name]) : [];
  }

  /** A batch column in the output format (tensors for `"tensor"`). */
  private formatColumn(col: Column, name: string): Column {
    if (this.state.format.type !== "tensor") return col;
    return tensorFormatter().column(col, this.state.features[name]) as Column;
  }

  /** @internal */
  scanSource() {
    return {
      files: this.state.files,
      indices: this.state.indices,
      features: this.state.features,
      table: () => this.table(),
    };
  }

  /** Iterates rows as objects. */
  *[Symbol.iterator](): Iterator<Record<string, unknown>> {
    const cols = this.outColumns();
    for (const b of scanColumns(this.scanSource(), { batchSize: ROW_BATCH, columns: cols, typed: false })) {
      const decoded = cols.map((c) => decodeColumn(b.columns[c], this.state.features[c]));
      for (let i = 0; i < b.length; i++) {
        const row: Record<string, unknown> = {};
        cols.forEach((c, k) => {
          row[c] = (decoded[k] as ArrayLike<unknown>)[i];
        });
        yield row;
      }
    }
  }

  /** Iterates batches of `batchSize` rows as columns (or Arrow tables with the `"arrow"` format). */
  *iter(options: { batchSize?: number; dropLastBatch?: boolean } = {}): Generator<Record<string, Column> | Table> {
    const batchSize = options.batchSize ?? ROW_BATCH;
    const cols = this.outColumns();
    const typed = this.state.format.type !== "js";
    for (const b of scanColumns(this.scanSource(), { batchSize, columns: cols, typed })) {
      if (options.dropLastBatch && b.length < batchSize) return;
      if (this.state.format.type === "arrow") {
        yield columnsToTable(b, cols, this.state.features);
      } else {
        const out: Record<string, Column> = {};
        for (const c of cols) out[c] = this.formatColumn(decodeColumn(b.columns[c], this.state.features[c]), c);
        yield out;
      }
    }
  }

  /** Rows as an array of objects (small datasets only). */
  toList(): Record<string, unknown>[] {
    return [...this];
  }

  /** Columns as a dict of arrays (small datasets only). */
  toDict(): Record<string, Column> {
    return this.getBatch(0, this.numRows);
  }

  /**
   * Applies `fn` to each row (or batch with `batched: true`) and returns a dataset of the inputs
   * updated with the returned columns; cached by fingerprint (function source + options).
   */
  map(fn: MapFunction, options: MapOptions = {}): Promise<Dataset> {
    return mapDataset(this, fn, options);
  }

  /** Keeps rows for which `fn` returns true (batched: an array of booleans); an index mapping. */
  filter(fn: MapFunction, options: FilterOptions = {}): Promise<Dataset> {
    return filterDataset(this, fn, options);
  }

  // ---- index-mapping transforms (no data copied) -------------------------------------------

  /** @internal Writes (or reuses) an indices cache file and returns the dataset using it. */
  withIndices(indices: Uint32Array | number[], fingerprint: string, options: CacheOptions = {}): Dataset {
    const path = join(this.state.cacheDir, `cache-${fingerprint}.arrow`);
    let mapped: Uint32Array;
    if (options.loadFromCacheFile !== false && existsSync(path)) {
      mapped = readIndicesFile(path);
    } else {
      const arr = indices instanceof Uint32Array ? indices : Uint32Array.from(indices);
      writeIndicesFile(path, arr);
      mapped = readIndicesFile(path);
    }
    return this.with({ indices: mapped, indicesFile: path, fingerprint });
  }

  /** Physical row numbers of the logical rows (a fresh array). */
  private physicalRows(): Uint32Array {
    if (this.state.indices) return this.state.indices.slice();
    const n = this.numRows;
    const out = new Uint32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    return out;
  }

  /** Keeps the rows at `indices` (any order, repeats allowed), or a `{start, end}` range. */
  select(
    indices: ArrayLike<number> | Iterable<number> | { start: number; end: number },
    options: CacheOptions = {},
  ): Dataset {
    const n = this.numRows;
    let rows: ArrayLike<number>;
    if ("start" in (indices as object) && "end" in (indices as object)) {
      const { start, end } = indices as { start: number; end: number };
      const s = Math.max(0, start);
      const e = Math.min(n, end);
      const r = new Uint32Array(Math.max(0, e - s));
      for (let i = 0; i < r.length; i++) r[i] = s + i;
      rows = r;
    } else {
      rows =
        ArrayBuffer.isView(indices) || Array.isArray(indices)
          ? (indices as ArrayLike<number>)
          : Array.from(indices as Iterable<number>);
    }
    const out = new Uint32Array(rows.length);
    const base = this.state.indices;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      if (!Number.isInteger(r) || r < 0 || r >= n) {
        throw fail("HEARTH_DATASETS_INDEX_OUT_OF_RANGE", `select: index ${r} (position ${i}) is outside [0, ${n})`);
      }
      out[i] = base ? base[r] : r;
    }
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "select", { indices: out });
    return this.withIndices(out, fp, options);
  }

  /** A seeded random permutation of the rows (index mapping only; the data stays where it is). */
  shuffle(options: { seed?: number } & CacheOptions = {}): Dataset {
    const seed = options.seed ?? randomSeed();
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "shuffle", { seed });
    if (options.loadFromCacheFile !== false && existsSync(join(this.state.cacheDir, `cache-${fp}.arrow`))) {
      return this.withIndices([], fp, options);
    }
    const perm = this.physicalRows();
    new SeededRandom(seed).shuffle(perm);
    return this.withIndices(perm, fp, options);
  }

  /** Rows ordered by one or more columns (stable; nulls last). */
  sort(columns: string | string[], options: { reverse?: boolean | boolean[] } & CacheOptions = {}): Dataset {
    const cols = Array.isArray(columns) ? columns : [columns];
    this.checkColumns(cols, "sort");
    const keys = cols.map((c) => this.withFormat("js").column(c) as ArrayLike<unknown>);
    const rev = cols.map((_, i) =>
      Array.isArray(options.reverse) ? (options.reverse[i] ?? false) : (options.reverse ?? false),
    );
    const order = Array.from({ length: this.numRows }, (_, i) => i);
    order.sort((a, b) => {
      for (let k = 0; k < keys.length; k++) {
        const x = keys[k][a];
        const y = keys[k][b];
        if (x == null || y == null) {
          if (x == null && y == null) continue;
          return x == null ? 1 : -1;
        }
        const c = compareValues(x, y);
        if (c !== 0) return rev[k] ? -c : c;
      }
      return a - b;
    });
    const phys = this.physicalRows();
    const out = Uint32Array.from(order, (i) => phys[i]);
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "sort", { columns: cols, reverse: rev });
    return this.withIndices(out, fp, options);
  }

  /**
   * Splits into `train` and `test` (Python's rules: a fraction rounds the test size up), shuffled
   * with `seed` unless `shuffle: false`; `stratifyByColumn` keeps each class's share in both parts.
   */
  trainTestSplit(options: {
    testSize?: number;
    trainSize?: number;
    shuffle?: boolean;
    seed?: number;
    stratifyByColumn?: string;
  }): { train: Dataset; test: Dataset } {
    const n = this.numRows;
    const size = (v: number | undefined, name: string) => {
      if (v === undefined) return undefined;
      if (v < 0 || (v >= 1 && !Number.isInteger(v)) || (v >= 1 && v > n)) {
        throw fail(
          "HEARTH_DATASETS_BAD_ARGUMENT",
          `trainTestSplit: '${name}' must be a fraction in (0, 1) or a count ≤ ${n}, got ${v}`,
        );
      }
      return v < 1 ? (name === "testSize" ? Math.ceil(v * n) : Math.floor(v * n)) : v;
    };
    const askedTest = size(options.testSize, "testSize");
    const askedTrain = size(options.trainSize, "trainSize");
    const nTest = askedTest ?? (askedTrain === undefined ? Math.ceil(0.25 * n) : n - askedTrain);
    const nTrain = askedTrain ?? n - nTest;
    if (nTrain + nTest > n || nTrain <= 0 || nTest <= 0) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `trainTestSplit: train ${nTrain} + test ${nTest} rows must be positive and ≤ ${n}`,
      );
    }
    const seed = options.seed ?? randomSeed();
    const rng = new SeededRandom(seed);
    const shuffle = options.shuffle ?? true;
    let trainIdx: number[];
    let testIdx: number[];
    if (options.stratifyByColumn) {
      this.checkColumns([options.stratifyByColumn], "trainTestSplit");
      if (!shuffle) throw fail("HEARTH_DATASETS_BAD_ARGUMENT", "trainTestSplit: stratifyByColumn needs shuffle: true");
      const labels = this.withFormat("js").column(options.stratifyByColumn) as ArrayLike<unknown>;
      const groups = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const key = JSON.stringify(labels[i]);
        const g = groups.get(key);
        if (g) g.push(i);
        else groups.set(key, [i]);
      }
      // Largest-remainder allocation of test rows per class, then shuffle within each class.
      const entries = [...groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1));
      const exact = entries.map(([, g]) => (g.length * nTest) / n);
      const alloc = exact.map(Math.floor);
      let left = nTest - alloc.reduce((a, b) => a + b, 0);
      const byRemainder = exact
        .map((e, i) => [e - Math.floor(e), i] as const)
        .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
      for (const [, i] of byRemainder) {
        if (left <= 0) break;
        alloc[i]++;
        left--;
      }
      trainIdx = [];
      testIdx = [];
      entries.forEach(([, g], gi) => {
        rng.shuffle(g);
        testIdx.push(...g.slice(0, alloc[gi]));
        trainIdx.push(...g.slice(alloc[gi], alloc[gi] + Math.round((g.length * nTrain) / n)));
      });
      rng.shuffle(trainIdx);
      rng.shuffle(testIdx);
    } else {
      const perm = Array.from({ length: n }, (_, i) => i);
      if (shuffle) rng.shuffle(perm);
      testIdx = perm.slice(0, nTest);
      trainIdx = perm.slice(nTest, nTest + nTrain);
    }
    const args = { seed, nTest, nTrain, shuffle, stratify: options.stratifyByColumn ?? null };
    return {
      train: this.select(trainIdx, {
        newFingerprint: updateFingerprint(this.fingerprint, "trainTestSplit.train", args),
      }).with({ split: "train" }),
      test: this.select(testIdx, {
        newFingerprint: updateFingerprint(this.fingerprint, "trainTestSplit.test", args),
      }).with({ split: "test" }),
    };
  }

  /** Shard `index` of `numShards`: contiguous blocks by default, or every numShards-th row. */
  shard(options: { numShards: number; index: number; contiguous?: boolean }): Dataset {
    const { numShards, index } = options;
    if (!Number.isInteger(numShards) || numShards < 1 || !Number.isInteger(index) || index < 0 || index >= numShards) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `shard: 'index' must be in [0, numShards), got index ${index} of ${numShards}`,
      );
    }
    const n = this.numRows;
    const rows: number[] = [];
    if (options.contiguous ?? true) {
      const div = Math.floor(n / numShards);
      const mod = n % numShards;
      const start = div * index + Math.min(index, mod);
      const end = start + div + (index < mod ? 1 : 0);
      return this.select({ start, end }, { newFingerprint: updateFingerprint(this.fingerprint, "shard", options) });
    }
    for (let i = index; i < n; i += numShards) rows.push(i);
    return this.select(rows, { newFingerprint: updateFingerprint(this.fingerprint, "shard", options) });
  }

  /** The first `n` rows. */
  take(n: number): Dataset {
    return this.select({ start: 0, end: n });
  }

  /** All rows but the first `n`. */
  skip(n: number): Dataset {
    return this.select({ start: n, end: this.numRows });
  }

  /** Distinct values of a column, in order of first appearance. */
  unique(column: string): unknown[] {
    this.checkColumns([column], "unique");
    const seen = new Map<string, unknown>();
    for (const b of scanColumns(this.scanSource(), { batchSize: 65536, columns: [column], typed: false })) {
      const c = b.columns[column] as ArrayLike<unknown>;
      for (let i = 0; i < c.length; i++) {
        const v = c[i];
        const key = typeof v === "string" ? `s${v}` : JSON.stringify(v);
        if (!seen.has(key)) seen.set(key, v);
      }
    }
    return [...seen.values()];
  }

  // ---- transforms that rewrite the data --------------------------------------------------------

  /**
   * @internal Streams every row through `transform` (batches of columns → batches of columns with
   * `features`) into `cache-<fingerprint>.arrow`, or reuses that file.
   */
  rewrite(
    fingerprint: string,
    features: Features,
    transform: (batch: ColumnBatch) => Record<string, Column>,
    options: CacheOptions & { columns?: string[] } = {},
  ): Dataset {
    const path = join(this.state.cacheDir, `cache-${fingerprint}.arrow`);
    if (!(options.loadFromCacheFile !== false && existsSync(path))) {
      const src = this.scanSource();
      const cols = options.columns ?? this.columnNames;
      writeColumnsFile(path, features, fingerprint, function* () {
        for (const b of scanColumns(src, { batchSize: ROW_BATCH, columns: cols, typed: true })) {
          yield { columns: transform(b), length: b.length };
        }
      });
    }
    return new Dataset({ ...this.state, files: [path], indices: null, indicesFile: null, features, fingerprint });
  }

  /** Writes the index mapping out: a dataset whose files hold exactly its rows, in order. */
  flattenIndices(options: CacheOptions = {}): Dataset {
    if (!this.state.indices) return this;
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "flattenIndices", {});
    return this.rewrite(fp, this.features, (b) => b.columns, options);
  }

  /** Drops columns. */
  removeColumns(columns: string | string[], options: CacheOptions = {}): Dataset {
    const cols = Array.isArray(columns) ? columns : [columns];
    this.checkColumns(cols, "removeColumns");
    const keep = this.columnNames.filter((c) => !cols.includes(c));
    return this.selectColumns(keep, {
      ...options,
      newFingerprint: options.newFingerprint ?? updateFingerprint(this.fingerprint, "removeColumns", { cols }),
    });
  }

  /** Keeps only the given columns, in the given order. */
  selectColumns(columns: string | string[], options: CacheOptions = {}): Dataset {
    const cols = Array.isArray(columns) ? columns : [columns];
    this.checkColumns(cols, "selectColumns");
    const features: Features = {};
    for (const c of cols) features[c] = this.features[c];
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "selectColumns", { cols });
    return this.rewrite(fp, features, (b) => b.columns, { ...options, columns: cols });
  }

  /** Renames one column. */
  renameColumn(from: string, to: string, options: CacheOptions = {}): Dataset {
    return this.renameColumns({ [from]: to }, options);
  }

  /** Renames columns by a `{old: new}` mapping. */
  renameColumns(mapping: Record<string, string>, options: CacheOptions = {}): Dataset {
    this.checkColumns(Object.keys(mapping), "renameColumns");
    const features: Features = {};
    for (const [name, f] of Object.entries(this.features)) {
      const to = mapping[name] ?? name;
      if (to in features)
        throw fail("HEARTH_DATASETS_COLUMN_EXISTS", `renameColumns: two columns would be named '${to}'`);
      features[to] = f;
    }
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "renameColumns", { mapping });
    return this.rewrite(
      fp,
      features,
      (b) => {
        const out: Record<string, Column> = {};
        for (const [name, col] of Object.entries(b.columns)) out[mapping[name] ?? name] = col;
        return out;
      },
      options,
    );
  }

  /** Adds a column of `numRows` values (feature inferred unless given). */
  addColumn(name: string, values: Column, options: { feature?: Feature } & CacheOptions = {}): Dataset {
    if (name in this.features)
      throw fail("HEARTH_DATASETS_COLUMN_EXISTS", `addColumn: column '${name}' already exists`);
    if (values.length !== this.numRows) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `addColumn: column '${name}' has ${values.length} values, the dataset has ${this.numRows} rows`,
      );
    }
    const feature = options.feature ?? inferFeature(values, name);
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "addColumn", { name, values, feature });
    return this.rewrite(
      fp,
      { ...this.features, [name]: feature },
      (b) => ({ ...b.columns, [name]: sliceAny(values, b.start, b.start + b.length) }),
      options,
    );
  }

  /** Casts one column to a feature (e.g. strings → ClassLabel ids, int → float32). */
  castColumn(name: string, feature: Feature, options: CacheOptions = {}): Dataset {
    this.checkColumns([name], "castColumn");
    return this.cast({ ...this.features, [name]: feature }, options);
  }

  /**
   * Turns a column of values into ClassLabel ids, with the distinct values (sorted) as the label
   * names, as Python's `class_encode_column`.
   */
  classEncodeColumn(column: string, options: CacheOptions = {}): Dataset {
    this.checkColumns([column], "classEncodeColumn");
    const values = this.unique(column).filter((v) => v !== null && v !== undefined);
    const names = values.map(String).sort();
    if (names.length === 0)
      throw fail("HEARTH_DATASETS_BAD_ARGUMENT", `classEncodeColumn: column '${column}' has no values`);
    const label = ClassLabel({ names });
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "classEncodeColumn", { column });
    return this.rewrite(
      fp,
      { ...this.features, [column]: label },
      (b) => ({
        ...b.columns,
        [column]: Array.from(b.columns[column] as ArrayLike<unknown>, (v) =>
          v == null ? null : names.indexOf(String(v)),
        ),
      }),
      options,
    );
  }

  /** Casts all columns to new features (same column names). */
  cast(features: Features, options: CacheOptions = {}): Dataset {
    const want = Object.keys(features).sort().join(",");
    if (want !== this.columnNames.slice().sort().join(",")) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `cast: features must name exactly the columns [${this.columnNames.join(", ")}], got [${Object.keys(features).join(", ")}]`,
      );
    }
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "cast", { features });
    const from = this.features;
    return this.rewrite(
      fp,
      features,
      (b) => {
        const out: Record<string, Column> = {};
        for (const name of Object.keys(features))
          out[name] = castValues(b.columns[name], from[name], features[name], name);
        return out;
      },
      options,
    );
  }

  /** Nested struct columns become `parent.child` columns. */
  flatten(options: CacheOptions = {}): Dataset {
    const features = flattenFeatures(this.features);
    if (Object.keys(features).length === this.columnNames.length && this.columnNames.every((c) => c in features))
      return this;
    const fp = options.newFingerprint ?? updateFingerprint(this.fingerprint, "flatten", {});
    return this.rewrite(
      fp,
      features,
      (b) => {
        const out: Record<string, Column> = {};
        for (const [name, col] of Object.entries(b.columns)) flattenColumn(name, col, this.features[name], out);
        return out;
      },
      options,
    );
  }
}

/** Features from a mapped table's schema (metadata first). */
function featuresFromTable(table: Table): Features {
  return featuresFromSchema(table.schema);
}

function columnsToTable(b: ColumnBatch, cols: string[], features: Features): Table {
  const f: Features = {};
  for (const c of cols) f[c] = features[c];
  const schema = schemaFromFeatures(f);
  const children = cols.map((c) => columnToData(b.columns[c], f[c], c));
  return new Table([makeBatch(schema, children, b.length)]);
}
