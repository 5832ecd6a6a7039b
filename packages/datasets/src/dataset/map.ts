/**
 * `map` and `filter`: a user function over rows or batches, written to a fingerprinted cache file
 * (map) or an index mapping (filter). With `numProc > 1` the rows are split into contiguous
 * shards, each processed by a worker thread that rebuilds the function from its source text, as
 * Python pickles it for its process pool; map shards land in `cache-<fp>_0000i_of_0000n.arrow`.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { isMainThread, Worker } from "node:worker_threads";
import type { DataType } from "apache-arrow";
import {
  type Column,
  columnToData,
  featureToArrowType,
  inferFeature,
  isTypedArray,
  schemaFromFeatures,
} from "../arrow/convert.ts";
import { ArrowStreamFileWriter } from "../arrow/ipc.ts";
import { DatasetsError, fail } from "../errors.ts";
import { type Feature, type Features, featureKind, featuresEqual, type ValueFeature } from "../features/features.ts";
import { Progress } from "../progress.ts";
import { decodeColumn } from "./cells.ts";
import { type CacheOptions, Dataset, type DatasetState } from "./dataset.ts";
import { updateFingerprint } from "./fingerprint.ts";
import { scanColumns } from "./scan.ts";

/** Options of {@link mapDataset}. */
export interface MapOptions extends CacheOptions {
  /** Call the function on batches of columns instead of single rows. */
  batched?: boolean;
  /** Rows per batch (default 1000). */
  batchSize?: number;
  /** Pass each row's (or batch's) indices as the second argument. */
  withIndices?: boolean;
  /** Columns to drop from the output (the function still sees them). */
  removeColumns?: string | string[];
  /** Columns the function receives (default all). */
  inputColumns?: string[];
  /** Worker threads (default 1: in this thread). The function must be self-contained. */
  numProc?: number;
  /** Output features, instead of inferring them from the first batch. */
  features?: Features;
  /** Drop a last batch smaller than batchSize. */
  dropLastBatch?: boolean;
  /** Progress bar label. */
  desc?: string;
}

/** Options of {@link filterDataset}. */
export type FilterOptions = Omit<MapOptions, "removeColumns" | "features">;

type Row = Record<string, unknown>;
/** A map function: a row (or a batch of columns) in, updates out. */
export type MapFunction = (
  // biome-ignore lint/suspicious/noExplicitAny: rows and batches have whatever shape the dataset has
  input: any,
  // biome-ignore lint/suspicious/noExplicitAny: a number, or an array of numbers when batched
  indices?: any,
) => Row | Record<string, Column> | ArrayLike<boolean | number> | boolean | undefined | null | Promise<unknown>;

/** @internal Everything a worker needs to process its shard. */
export interface ShardJob {
  mode: "map" | "filter";
  state: Omit<DatasetState, "indices"> & { indices: Uint32Array | null };
  fnSource: string;
  options: Omit<MapOptions, "numProc">;
  from: number;
  to: number;
  path: string;
  fingerprint: string;
}

function removeList(o: MapOptions): string[] {
  return o.removeColumns === undefined ? [] : Array.isArray(o.removeColumns) ? o.removeColumns : [o.removeColumns];
}

function fingerprintArgs(fn: unknown, o: MapOptions): Record<string, unknown> {
  return {
    fn,
    batched: o.batched ?? false,
    batchSize: o.batchSize ?? 1000,
    withIndices: o.withIndices ?? false,
    removeColumns: removeList(o),
    inputColumns: o.inputColumns ?? null,
    features: o.features ?? null,
    dropLastBatch: o.dropLastBatch ?? false,
  };
}

/** Applies `fn` to every row or batch and returns the dataset of results (see {@link MapOptions}). */
export async function mapDataset(ds: Dataset, fn: MapFunction, options: MapOptions = {}): Promise<Dataset> {
  ds.checkColumns(removeList(options), "map");
  if (options.inputColumns) ds.checkColumns(options.inputColumns, "map");
  const fingerprint = options.newFingerprint ?? updateFingerprint(ds.fingerprint, "map", fingerprintArgs(fn, options));
  const numProc = Math.max(1, Math.min(options.numProc ?? 1, ds.numRows || 1));
  const dir = ds.state.cacheDir;
  const paths =
    numProc === 1
      ? [join(dir, `cache-${fingerprint}.arrow`)]
      : Array.from({ length: numProc }, (_, i) =>
          join(dir, `cache-${fingerprint}_${pad5(i)}_of_${pad5(numProc)}.arrow`),
        );
  const cached = options.loadFromCacheFile !== false && paths.every((p) => existsSync(p));
  if (!cached) {
    const progress = new Progress(options.desc ?? "Map", ds.numRows);
    try {
      if (numProc === 1) {
        await processShard(jobFor(ds, "map", fn, options, 0, ds.numRows, paths[0], fingerprint), fn, (n) =>
          progress.update(n),
        );
      } else {
        await runWorkers(ds, "map", fn, options, paths, fingerprint, progress);
      }
    } finally {
      progress.close();
    }
  }
  const out = Dataset.fromArrowFiles(paths, { fingerprint, split: ds.split ?? undefined });
  const shardFeatures = paths.map((p) => Dataset.fromArrowFiles([p]).features);
  for (let i = 1; i < shardFeatures.length; i++) {
    if (!featuresEqual(shardFeatures[0], shardFeatures[i])) {
      throw fail(
        "HEARTH_DATASETS_SCHEMA_CONFLICT",
        `map: worker ${i} produced different column types than worker 0; pass 'features' to fix them`,
      );
    }
  }
  return out.with({ format: ds.state.format, cacheDir: ds.state.cacheDir, info: ds.state.info });
}

/** Keeps the rows for which `fn` returns true (or, batched, whose entry in the returned array is true). */
export async function filterDataset(ds: Dataset, fn: MapFunction, options: FilterOptions = {}): Promise<Dataset> {
  if (options.inputColumns) ds.checkColumns(options.inputColumns, "filter");
  const fingerprint =
    options.newFingerprint ?? updateFingerprint(ds.fingerprint, "filter", fingerprintArgs(fn, options));
  const path = join(ds.state.cacheDir, `cache-${fingerprint}.arrow`);
  if (options.loadFromCacheFile !== false && existsSync(path)) return ds.withIndices([], fingerprint);
  const numProc = Math.max(1, Math.min(options.numProc ?? 1, ds.numRows || 1));
  const progress = new Progress(options.desc ?? "Filter", ds.numRows);
  let kept: Uint32Array;
  try {
    if (numProc === 1) {
      const r = await processShard(jobFor(ds, "filter", fn, options, 0, ds.numRows, path, fingerprint), fn, (n) =>
        progress.update(n),
      );
      kept = r.kept ?? new Uint32Array(0);
    } else {
      const parts = await runWorkers(ds, "filter", fn, options, [], fingerprint, progress);
      const total = parts.reduce((n, p) => n + p.length, 0);
      kept = new Uint32Array(total);
      let off = 0;
      for (const p of parts) {
        kept.set(p, off);
        off += p.length;
      }
    }
  } finally {
    progress.close();
  }
  // `kept` holds logical rows; select maps them through the current index mapping.
  return ds.select(kept, { newFingerprint: fingerprint, loadFromCacheFile: false });
}

function pad5(i: number): string {
  return String(i).padStart(5, "0");
}

function jobFor(
  ds: Dataset,
  mode: "map" | "filter",
  fn: MapFunction,
  options: MapOptions,
  from: number,
  to: number,
  path: string,
  fingerprint: string,
): ShardJob {
  const { numProc: _numProc, ...rest } = options;
  return { mode, state: ds.state, fnSource: fn.toString(), options: rest, from, to, path, fingerprint };
}

/**
 * Idle map workers, kept between calls so a pipeline pays the thread start-up (loading the
 * TypeScript modules) once. Idle workers are unref'd: they never keep the process alive.
 */
const idleWorkers: Worker[] = [];

function acquireWorker(): Worker {
  const w = idleWorkers.pop() ?? new Worker(new URL("./map-worker-boot.mjs", import.meta.url));
  w.ref();
  return w;
}

function releaseWorker(w: Worker): void {
  w.removeAllListeners("message");
  w.removeAllListeners("error");
  w.removeAllListeners("exit");
  w.unref();
  if (idleWorkers.length < 16) idleWorkers.push(w);
  else void w.terminate();
}

async function runWorkers(
  ds: Dataset,
  mode: "map" | "filter",
  fn: MapFunction,
  options: MapOptions,
  paths: string[],
  fingerprint: string,
  progress: Progress,
): Promise<Uint32Array[]> {
  const numProc = Math.max(paths.length, Math.min(options.numProc ?? 1, ds.numRows || 1));
  const n = ds.numRows;
  const jobs: Promise<Uint32Array>[] = [];
  const workers: Worker[] = [];
  for (let i = 0; i < numProc; i++) {
    const div = Math.floor(n / numProc);
    const mod = n % numProc;
    const from = div * i + Math.min(i, mod);
    const to = from + div + (i < mod ? 1 : 0);
    const job = jobFor(ds, mode, fn, options, from, to, paths[i] ?? "", fingerprint);
    const worker = acquireWorker();
    workers.push(worker);
    jobs.push(
      new Promise<Uint32Array>((resolve, reject) => {
        worker.on(
          "message",
          (m: { progress?: number; done?: boolean; kept?: Uint32Array; error?: { code: string; message: string } }) => {
            if (m.progress) progress.update(m.progress);
            if (m.error) {
              reject(
                m.error.code.startsWith("HEARTH_")
                  ? new DatasetsError(m.error.code as never, m.error.message)
                  : fail("HEARTH_DATASETS_WORKER_FAILED", m.error.message),
              );
            }
            if (m.done) resolve(m.kept ?? new Uint32Array(0));
          },
        );
        worker.on("error", (e) =>
          reject(fail("HEARTH_DATASETS_WORKER_FAILED", `${mode}: worker ${i} failed: ${e.message}`, e)),
        );
        worker.on("exit", (code) =>
          reject(fail("HEARTH_DATASETS_WORKER_FAILED", `${mode}: worker ${i} exited with code ${code}`)),
        );
        worker.postMessage(job);
      }),
    );
  }
  try {
    const results = await Promise.all(jobs);
    for (const w of workers) releaseWorker(w);
    return results;
  } catch (error) {
    // One shard failed: stop all of this call's workers and remove every shard (and temp file)
    // of this result, so no partial set of cache files is ever reused.
    await Promise.all(workers.map((w) => w.terminate()));
    const dir = ds.state.cacheDir;
    for (const f of readdirSync(dir)) if (f.startsWith(`cache-${fingerprint}_`)) rmSync(join(dir, f), { force: true });
    throw error;
  }
}

/** Rebuilds a function from its source text (for worker threads). */
export function functionFromSource(src: string): MapFunction {
  try {
    const f = new Function(`"use strict"; return (${src});`)() as unknown;
    if (typeof f !== "function") throw new Error("not a function");
    return f as MapFunction;
  } catch (error) {
    throw fail(
      "HEARTH_DATASETS_WORKER_FAILED",
      `map/filter with numProc > 1: the function must be a self-contained arrow function or function expression (it is rebuilt from its source in each worker); could not rebuild: ${src.slice(0, 80)}`,
      error,
    );
  }
}

/** @internal Processes logical rows [job.from, job.to): map writes job.path, filter returns kept rows. */
export async function processShard(
  job: ShardJob,
  fn: MapFunction,
  onProgress: (n: number) => void,
): Promise<{ kept?: Uint32Array }> {
  const { options } = job;
  const ds = new Dataset(job.state);
  const batched = options.batched ?? false;
  const batchSize = options.batchSize ?? 1000;
  const remove = new Set(removeList(options));
  const inputNames = options.inputColumns ?? ds.columnNames;
  const readNames = job.mode === "map" ? [...new Set([...ds.columnNames, ...inputNames])] : inputNames;
  // Kept rows grow in a typed buffer: a JS array of millions of numbers costs several times more.
  let kept = new Uint32Array(1024);
  let keptCount = 0;
  const keep = (row: number) => {
    if (keptCount === kept.length) {
      const grown = new Uint32Array(kept.length * 2);
      grown.set(kept);
      kept = grown;
    }
    kept[keptCount++] = row;
  };
  let writer: ArrowStreamFileWriter | null = null;
  let outFeatures: Features | null = options.features ?? null;
  let arrowTypes: Record<string, DataType> | null = null;
  try {
    for (const b of scanColumns(ds.scanSource(), {
      batchSize,
      columns: readNames,
      typed: batched,
      from: job.from,
      to: job.to,
    })) {
      if (options.dropLastBatch && b.length < batchSize) break;
      // Inputs convert on first access, so a function reading one column pays for one column.
      const input: Record<string, Column> = {};
      for (const name of inputNames) {
        Object.defineProperty(input, name, {
          enumerable: true,
          configurable: true,
          get: () => {
            const value = decodeColumn(b.columns[name], ds.features[name]);
            Object.defineProperty(input, name, { value, enumerable: true, configurable: true, writable: true });
            return value;
          },
        });
      }
      let results: Record<string, Column> | null = null;
      let resultLength = b.length;
      if (batched) {
        const idx = options.withIndices ? Array.from({ length: b.length }, (_, i) => b.start + i) : undefined;
        const r = await callUser(fn, input, idx, job.mode);
        if (job.mode === "filter") {
          const mask = r as ArrayLike<unknown>;
          if (!mask || typeof mask !== "object" || mask.length !== b.length) {
            throw fail(
              "HEARTH_DATASETS_MAP_FAILED",
              `filter: a batched function must return ${b.length} booleans, got ${describe(r)}`,
            );
          }
          for (let i = 0; i < b.length; i++) if (mask[i]) keep(b.start + i);
        } else if (r !== undefined && r !== null) {
          results = checkBatchResult(r, b.length, remove, ds.columnNames);
          const lens = Object.values(results).map((c) => c.length);
          resultLength = lens.length ? lens[0] : b.length;
        }
      } else {
        const rowsOut: Row[] = [];
        for (let i = 0; i < b.length; i++) {
          const row: Row = {};
          for (const name of inputNames) row[name] = (input[name] as ArrayLike<unknown>)[i];
          const r = await callUser(fn, row, options.withIndices ? b.start + i : undefined, job.mode);
          if (job.mode === "filter") {
            if (r) keep(b.start + i);
          } else {
            if (r !== undefined && r !== null && (typeof r !== "object" || Array.isArray(r))) {
              throw fail(
                "HEARTH_DATASETS_MAP_FAILED",
                `map: the function must return an object of updates (or nothing), got ${describe(r)} for row ${b.start + i}`,
              );
            }
            rowsOut.push((r ?? {}) as Row);
          }
        }
        if (job.mode === "map") results = rowsToColumns(rowsOut);
      }
      onProgress(b.length);
      if (job.mode === "filter") continue;
      // Output = input columns minus removed (in input order), then the function's columns.
      // Passthrough columns are written from their Arrow data when the scan has it (no conversion).
      const passthrough: string[] = [];
      if (resultLength === b.length) {
        for (const name of ds.columnNames)
          if (!remove.has(name) && !(results && name in results)) passthrough.push(name);
      }
      const produced = results ?? {};
      // Python's dict update: a returned column replaces an input column in place; new ones follow.
      const order = [
        ...ds.columnNames.filter((n) => !remove.has(n) && (resultLength === b.length || n in produced)),
        ...Object.keys(produced).filter((n) => !ds.columnNames.includes(n) || remove.has(n)),
      ];
      if (!outFeatures) outFeatures = resolveFeatures(order, new Set(passthrough), produced, ds.features);
      if (!writer) {
        mkdirSync(dirname(job.path), { recursive: true });
        writer = new ArrowStreamFileWriter(job.path, schemaFromFeatures(outFeatures, job.fingerprint));
      }
      const resolved = outFeatures;
      const types: Record<string, DataType> =
        arrowTypes ?? Object.fromEntries(Object.entries(resolved).map(([k, f]) => [k, featureToArrowType(f)]));
      arrowTypes = types;
      for (const k of [...passthrough, ...Object.keys(produced)]) {
        if (!(k in resolved)) {
          throw fail(
            "HEARTH_DATASETS_MAP_FAILED",
            `map: batch at row ${b.start} returned a new column '${k}' that earlier batches did not`,
          );
        }
      }
      const isPassthrough = new Set(passthrough);
      const children = Object.keys(resolved).map((name) => {
        if (isPassthrough.has(name)) {
          const data = b.arrow?.[name];
          if (data && String(data.type) === String(types[name])) return data;
          return columnToData(b.columns[name], resolved[name], name);
        }
        const col = produced[name];
        if (!col) {
          throw fail(
            "HEARTH_DATASETS_MAP_FAILED",
            `map: batch at row ${b.start} lacks column '${name}' that earlier batches returned`,
          );
        }
        return columnToData(col, resolved[name], name);
      });
      if (resultLength > 0) writer.writeData(children, resultLength);
    }
    if (job.mode === "map") {
      if (!writer) {
        // No rows: an empty file with the input features minus removed columns.
        const f: Features =
          outFeatures ?? Object.fromEntries(Object.entries(ds.features).filter(([k]) => !remove.has(k)));
        writer = new ArrowStreamFileWriter(job.path, schemaFromFeatures(f, job.fingerprint));
      }
      writer.finish();
      writer = null;
    }
    return { kept: kept.subarray(0, keptCount) };
  } catch (error) {
    writer?.abort();
    throw error;
  }
}

async function callUser(fn: MapFunction, input: unknown, idx: unknown, mode: string): Promise<unknown> {
  try {
    const r = idx === undefined ? fn(input) : fn(input, idx);
    return r instanceof Promise ? await r : r;
  } catch (error) {
    if (error instanceof DatasetsError) throw error;
    const inWorker = !isMainThread;
    const hint =
      inWorker && error instanceof ReferenceError
        ? " (with numProc > 1 the function runs in a worker thread, rebuilt from its source: it cannot use variables from the surrounding scope)"
        : "";
    throw fail(
      "HEARTH_DATASETS_MAP_FAILED",
      `${mode}: the function threw: ${(error as Error)?.message ?? String(error)}${hint}`,
      error,
    );
  }
}

function checkBatchResult(r: unknown, n: number, remove: Set<string>, inputNames: string[]): Record<string, Column> {
  if (typeof r !== "object" || Array.isArray(r)) {
    throw fail(
      "HEARTH_DATASETS_MAP_FAILED",
      `map: a batched function must return an object of columns, got ${describe(r)}`,
    );
  }
  const cols = r as Record<string, Column>;
  const lengths = new Set(Object.values(cols).map((c) => c?.length));
  if (lengths.size > 1) {
    throw fail(
      "HEARTH_DATASETS_MAP_FAILED",
      `map: returned columns have different lengths (${[...lengths].join(", ")})`,
    );
  }
  const len = lengths.size ? [...lengths][0] : n;
  const kept = inputNames.filter((c) => !remove.has(c) && !(c in cols));
  if (len !== n && kept.length > 0) {
    throw fail(
      "HEARTH_DATASETS_MAP_FAILED",
      `map: the function returned ${len} rows for a batch of ${n}; to change the row count, remove the input columns [${kept.join(", ")}] with removeColumns`,
    );
  }
  return cols;
}

function rowsToColumns(rows: Row[]): Record<string, unknown[]> {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r)) {
      if (!seen.has(k)) {
        seen.add(k);
        names.push(k);
      }
    }
  }
  const out: Record<string, unknown[]> = {};
  for (const k of names) out[k] = rows.map((r) => (k in r ? r[k] : null));
  return out;
}

/** Output features: passthrough columns keep theirs; results keep the input's when the types agree. */
function resolveFeatures(
  order: string[],
  passthrough: Set<string>,
  results: Record<string, Column>,
  input: Features,
): Features {
  const f: Features = {};
  for (const name of order) {
    const before = input[name];
    if (passthrough.has(name)) {
      f[name] = before;
      continue;
    }
    const inferred = inferFeature(results[name], name);
    f[name] = before && compatible(before, inferred, results[name]) ? before : inferred;
  }
  return f;
}

function compatible(before: Feature, inferred: Feature, col: Column): boolean {
  if (String(featureToArrowType(before)) === String(featureToArrowType(inferred))) return true;
  if (featureKind(inferred) === "Value" && (inferred as ValueFeature).dtype === "null") return true;
  // Plain JS numbers cannot say "float": keep a float column float when integers come back.
  return (
    !isTypedArray(col) &&
    featureKind(before) === "Value" &&
    featureKind(inferred) === "Value" &&
    (before as ValueFeature).dtype.startsWith("float") &&
    (inferred as ValueFeature).dtype === "int64"
  );
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v;
}
