/**
 * `Dataset.fromGenerator`: rows from a (sync or async) generator function, written batch by batch
 * to a cache file named by a hash of the function's source, so the same generator is read once.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Column, columnToData, inferFeature, schemaFromFeatures, unifyFeatures } from "../arrow/convert.ts";
import { ArrowStreamFileWriter } from "../arrow/ipc.ts";
import type { Features } from "../features/features.ts";
import { featureKind } from "../features/features.ts";
import { Dataset, defaultTempCacheDir } from "./dataset.ts";
import { hashFingerprint } from "./fingerprint.ts";

type Row = Record<string, unknown>;

/** Options of {@link fromGenerator}. */
export interface FromGeneratorOptions {
  /** Column types instead of inferring them from the first rows. */
  features?: Features;
  cacheDir?: string;
  split?: string;
  /** Rows per written batch (default 1000). */
  writerBatchSize?: number;
  /** Arguments passed to the generator; part of the cache key. */
  genKwargs?: Record<string, unknown>;
  /** Reuse the cache file of an earlier run of the same generator (default true). */
  loadFromCacheFile?: boolean;
}

function hasNullType(f: Features): boolean {
  return Object.values(f).some((x) => featureKind(x) === "Value" && (x as { dtype: string }).dtype === "null");
}

/** Builds a dataset from the rows a generator yields. */
export async function fromGenerator(
  generator: (kwargs: Record<string, unknown>) => Iterable<Row> | AsyncIterable<Row>,
  options: FromGeneratorOptions = {},
): Promise<Dataset> {
  const fingerprint = hashFingerprint({
    fromGenerator: generator,
    kwargs: options.genKwargs ?? {},
    features: options.features ?? null,
  });
  const cacheDir = options.cacheDir ?? defaultTempCacheDir();
  const path = join(cacheDir, `cache-${fingerprint}.arrow`);
  if (!(options.loadFromCacheFile !== false && existsSync(path))) {
    const size = options.writerBatchSize ?? 1000;
    let features: Features | null = options.features ?? null;
    const names: string[] = options.features ? Object.keys(options.features) : [];
    let writer: ArrowStreamFileWriter | null = null;
    const pending: Row[][] = [];
    const toColumns = (rows: Row[]): Record<string, Column> =>
      Object.fromEntries(names.map((k) => [k, rows.map((r) => r[k] ?? null)]));
    const infer = (rows: Row[]): Features => {
      for (const r of rows) for (const k of Object.keys(r)) if (!names.includes(k)) names.push(k);
      const cols = toColumns(rows);
      return Object.fromEntries(names.map((k) => [k, inferFeature(cols[k], k)]));
    };
    const flush = (rows: Row[]) => {
      if (!features || rows.length === 0) return;
      if (!writer) {
        mkdirSync(cacheDir, { recursive: true });
        writer = new ArrowStreamFileWriter(path, schemaFromFeatures(features, fingerprint));
      }
      const cols = toColumns(rows);
      const f = features;
      writer.writeData(
        names.map((k) => columnToData(cols[k], f[k], k)),
        rows.length,
      );
    };
    let inferred: Features | null = null;
    try {
      let batch: Row[] = [];
      const take = (rows: Row[]) => {
        if (features) return flush(rows);
        // Infer from the first batches; wait (up to 16 batches) while a column is only nulls so far.
        pending.push(rows);
        const seen = infer(rows);
        inferred = inferred ? unifyFeatures({ ...seen, ...inferred }, { ...inferred, ...seen }, "fromGenerator") : seen;
        if (!hasNullType(inferred) || pending.length >= 16) {
          const known = inferred;
          features = Object.fromEntries(names.map((k) => [k, known[k]]));
          for (const p of pending.splice(0)) flush(p);
        }
      };
      for await (const row of generator(options.genKwargs ?? {}) as AsyncIterable<Row>) {
        batch.push(row);
        if (batch.length === size) {
          take(batch);
          batch = [];
        }
      }
      if (batch.length) take(batch);
      if (!features) {
        const known: Features = inferred ?? {};
        features = Object.fromEntries(names.map((k) => [k, known[k]]));
        for (const p of pending.splice(0)) flush(p);
      }
      if (!writer) {
        mkdirSync(cacheDir, { recursive: true });
        writer = new ArrowStreamFileWriter(path, schemaFromFeatures(features ?? {}, fingerprint));
      }
      (writer as ArrowStreamFileWriter).finish();
    } catch (error) {
      (writer as ArrowStreamFileWriter | null)?.abort();
      throw error;
    }
  }
  const ds = Dataset.fromArrowFiles([path], { fingerprint, split: options.split });
  return ds.with({ cacheDir });
}
