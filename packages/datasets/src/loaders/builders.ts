/**
 * Builders: turn the files of one split into rows. Each format reads a file into JS columns
 * (Parquet by row group); `buildSplit` checks that all files agree on their columns and types and
 * writes one Arrow cache file, atomically.
 */

import { mkdirSync } from "node:fs";
import { basename, dirname, extname } from "node:path";
import {
  type Column,
  columnToData,
  dataToColumn,
  featuresFromSchema,
  schemaFromFeatures,
  unifyFeatures,
} from "../arrow/convert.ts";
import { ArrowStreamFileWriter, mapArrowFile } from "../arrow/ipc.ts";
import { fail } from "../errors.ts";
import { Audio, ClassLabel, type Features, featuresEqual, Image, Value } from "../features/features.ts";
import { Progress } from "../progress.ts";
import { openParquet, readParquetRows } from "./parquet.ts";
import {
  type CsvOptions,
  type JsonOptions,
  readCsv,
  readJson,
  readText,
  readTextFile,
  type TextOptions,
} from "./text-formats.ts";

/** The formats `loadDataset` reads. */
export type BuilderName = "csv" | "json" | "parquet" | "arrow" | "text" | "imagefolder" | "audiofolder" | "textfolder";

/** Reader options for every builder. */
export interface BuilderOptions extends CsvOptions, JsonOptions, TextOptions {
  /** Drop the label column of folder builders. */
  dropLabels?: boolean;
}

const IMAGE_EXT = [".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"];
const AUDIO_EXT = [".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a"];

/** The builder for a file name, or null when no builder reads it. */
export function builderForFile(path: string): BuilderName | null {
  const name = path.toLowerCase().replace(/\.(gz|bz2|xz|zst)$/, "");
  const ext = extname(name);
  if (ext === ".csv" || ext === ".tsv") return "csv";
  if (ext === ".json" || ext === ".jsonl" || ext === ".ndjson") return "json";
  if (ext === ".parquet") return "parquet";
  if (ext === ".arrow") return "arrow";
  if (ext === ".txt" || ext === ".text") return "text";
  if (IMAGE_EXT.includes(ext)) return "imagefolder";
  if (AUDIO_EXT.includes(ext)) return "audiofolder";
  return null;
}

/** The most common builder among files (Python picks the most frequent extension). */
export function inferBuilder(files: string[], where: string): BuilderName {
  const counts = new Map<BuilderName, number>();
  for (const f of files) {
    const b = builderForFile(f);
    if (b) counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  const best = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!best) {
    throw fail(
      "HEARTH_DATASETS_UNKNOWN_FORMAT",
      `loadDataset: no file in ${where} has a known extension (csv, json, jsonl, parquet, arrow, txt, images, audio)`,
    );
  }
  return best[0];
}

/** Files a builder reads, out of a split's files. */
export function filesFor(builder: BuilderName, files: string[]): string[] {
  if (builder === "textfolder") return files.filter((f) => !basename(f).startsWith("."));
  // As Python's filter_extensions: a builder reads only its own extensions.
  return files.filter((f) => builderForFile(f) === builder);
}

/** Rows per Parquet read: whole row groups up to this size. */
export const PARQUET_SLICE = 1 << 20;

type Batch = { columns: Record<string, Column>; length: number };

/** Rows of one split as batches, with the split's features (checked across files). */
export async function readSplit(
  builder: BuilderName,
  files: string[],
  options: BuilderOptions,
): Promise<{ features: Features; batches: () => AsyncGenerator<Batch> | Generator<Batch> }> {
  if (files.length === 0)
    throw fail("HEARTH_DATASETS_FILE_NOT_FOUND", `loadDataset: the ${builder} builder got no files`);
  switch (builder) {
    case "parquet": {
      const sources = await Promise.all(files.map((f) => openParquet(f)));
      const features = sources[0].features;
      sources.forEach((s, i) => {
        if (!featuresEqual(s.features, features)) {
          throw fail(
            "HEARTH_DATASETS_SCHEMA_CONFLICT",
            `parquet: '${files[i]}' has columns ${JSON.stringify(s.features)}, but '${files[0]}' has ${JSON.stringify(features)}`,
          );
        }
      });
      return {
        features,
        batches: async function* () {
          for (const s of sources) {
            for (const rg of s.rowGroups) {
              // One read per row group (hyparquet decodes whole column chunks); only giant groups are sliced.
              for (let a = rg.start; a < rg.end; a += PARQUET_SLICE)
                yield await readParquetRows(s, a, Math.min(rg.end, a + PARQUET_SLICE));
            }
          }
        },
      };
    }
    case "arrow": {
      const tables = files.map(mapArrowFile);
      const features = featuresFromSchema(tables[0].schema);
      tables.forEach((t, i) => {
        if (!featuresEqual(featuresFromSchema(t.schema), features)) {
          throw fail(
            "HEARTH_DATASETS_SCHEMA_CONFLICT",
            `arrow: '${files[i]}' has different columns or types than '${files[0]}'`,
          );
        }
      });
      return {
        features,
        batches: function* () {
          for (const t of tables) {
            for (const b of t.batches) {
              const columns: Record<string, Column> = {};
              b.schema.fields.forEach((f, i) => {
                columns[f.name] = dataToColumn(b.data.children[i], features[f.name], true);
              });
              yield { columns, length: b.numRows };
            }
          }
        },
      };
    }
    case "imagefolder":
    case "audiofolder":
    case "textfolder":
      return folderSplit(builder, files, options);
    default: {
      const read = builder === "csv" ? readCsv : builder === "json" ? readJson : readTextFile;
      const tables = files.map((f) => {
        const opts =
          builder === "csv" && f.toLowerCase().replace(/\.gz$/, "").endsWith(".tsv") && !options.sep
            ? { ...options, sep: "\t" }
            : options;
        return { file: f, table: read(f, opts) };
      });
      let features = tables[0].table.features;
      for (const t of tables.slice(1))
        features = unifyFeatures(features, t.table.features, `${builder}: '${t.file}' versus '${tables[0].file}'`);
      return {
        features,
        batches: function* () {
          for (const { table } of tables) yield* sliceTable(table.columns, table.length);
        },
      };
    }
  }
}

function* sliceTable(columns: Record<string, Column>, length: number, size = 10000): Generator<Batch> {
  for (let s = 0; s < length; s += size) {
    const e = Math.min(length, s + size);
    const out: Record<string, Column> = {};
    for (const [k, v] of Object.entries(columns))
      out[k] = ArrayBuffer.isView(v) ? (v as Float64Array).subarray(s, e) : (v as unknown[]).slice(s, e);
    yield { columns: out, length: e - s };
  }
}

/** Folder builders: one row per file; the label is the name of the file's folder. */
function folderSplit(builder: "imagefolder" | "audiofolder" | "textfolder", files: string[], options: BuilderOptions) {
  const wanted = builder === "imagefolder" ? IMAGE_EXT : builder === "audiofolder" ? AUDIO_EXT : null;
  const picked = files.filter((f) => !wanted || wanted.includes(extname(f).toLowerCase()));
  if (picked.length === 0)
    throw fail(
      "HEARTH_DATASETS_FILE_NOT_FOUND",
      `${builder}: no ${builder.replace("folder", "")} files among ${files.length} files`,
    );
  const labelOf = (f: string) => basename(dirname(f));
  const names = [...new Set(picked.map(labelOf))].sort();
  const withLabels = !options.dropLabels && names.length > 1;
  const column = builder === "imagefolder" ? "image" : builder === "audiofolder" ? "audio" : "text";
  const features: Features = {
    [column]: builder === "imagefolder" ? Image() : builder === "audiofolder" ? Audio() : Value("string"),
  };
  if (withLabels) features.label = ClassLabel({ names });
  return {
    features,
    batches: function* () {
      for (let s = 0; s < picked.length; s += 1000) {
        const part = picked.slice(s, s + 1000);
        const columns: Record<string, Column> = {
          [column]:
            builder === "textfolder" ? part.map((f) => readText(f)) : part.map((f) => ({ bytes: null, path: f })),
        };
        if (withLabels) columns.label = part.map((f) => names.indexOf(labelOf(f)));
        yield { columns, length: part.length };
      }
    },
  };
}

/** Reads a split and writes it to `path` (atomically); returns the features written. */
export async function buildSplit(
  builder: BuilderName,
  files: string[],
  options: BuilderOptions & { features?: Features },
  path: string,
  fingerprint: string,
): Promise<Features> {
  const { features: inferred, batches } = await readSplit(builder, files, options);
  const features = options.features ?? inferred;
  mkdirSync(dirname(path), { recursive: true });
  const writer = new ArrowStreamFileWriter(path, schemaFromFeatures(features, fingerprint));
  const progress = new Progress(`Generating ${basename(path, ".arrow")}`, 0);
  try {
    for await (const b of batches()) {
      progress.update(b.length);
      const children = Object.keys(features).map((name) => {
        const col = b.columns[name];
        if (!col) throw fail("HEARTH_DATASETS_SCHEMA_CONFLICT", `${builder}: a file lacks column '${name}'`);
        return columnToData(col, features[name], name);
      });
      writer.writeData(children, b.length);
    }
    writer.finish();
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    progress.close();
  }
  return features;
}
