/**
 * `saveToDisk` / `loadFromDisk` in Python's exact layout: `data-00000-of-0000N.arrow` shards
 * (Arrow IPC stream), `dataset_info.json` (first-level keys sorted, indent 2) and `state.json`
 * (`_data_files`, `_fingerprint`, `_format_columns`, `_format_kwargs`, `_format_type`,
 * `_output_all_columns`, `_split`; sorted, indent 2); a DatasetDict adds `dataset_dict.json`
 * (`{"splits": [...]}`) and one folder per split.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { Dataset } from "../dataset/dataset.ts";
import { DatasetDict } from "../dataset/dataset-dict.ts";
import { scanColumns } from "../dataset/scan.ts";
import { writeColumnsFile } from "../dataset/storage.ts";
import { fail } from "../errors.ts";
import { featuresFromJson, featuresToJson } from "../features/features.ts";

const MAX_SHARD_BYTES = 500 * 1024 * 1024;

function writeJsonAtomic(path: string, value: unknown, sortAll: boolean): void {
  const sorted = sortAll ? sortKeysDeep(value) : value;
  const tmp = `${path}.tmp-${process.pid}`;
  // Python's json.dump(indent=2) with the default separators and ensure_ascii=True.
  writeFileSync(
    tmp,
    JSON.stringify(sorted, null, 2).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    ),
  );
  renameSync(tmp, path);
}

function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeysDeep((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** Estimated bytes of the dataset's rows (file sizes, scaled by the index mapping). */
function estimateBytes(ds: Dataset): number {
  const t = ds.table();
  const physical = t.numRows || 1;
  let bytes = 0;
  for (const b of t.batches) bytes += b.data.byteLength;
  return (bytes * ds.numRows) / physical;
}

/**
 * Writes a dataset (or every split of a DatasetDict) to `path` in Python's layout, so
 * `datasets.load_from_disk(path)` reads it. Shards default to ≤ 500 MB each.
 */
export function saveToDisk(
  data: Dataset | DatasetDict,
  path: string,
  options: { numShards?: number; maxShardSize?: number } = {},
): void {
  if (data instanceof DatasetDict) {
    mkdirSync(path, { recursive: true });
    for (const [split, ds] of data) saveToDisk(ds, join(path, split), options);
    writeJsonAtomic(join(path, "dataset_dict.json"), { splits: [...data.keys()] }, false);
    return;
  }
  const ds = data;
  const target = resolve(path);
  if (ds.cacheFiles.some((f) => dirname(resolve(f.filename)) === target)) {
    throw fail(
      "HEARTH_DATASETS_BAD_ARGUMENT",
      `saveToDisk: '${path}' holds this dataset's own files; a dataset cannot overwrite itself`,
    );
  }
  const numShards =
    options.numShards ?? Math.max(1, Math.floor(estimateBytes(ds) / (options.maxShardSize ?? MAX_SHARD_BYTES)) + 1);
  mkdirSync(target, { recursive: true });
  const names = Array.from(
    { length: numShards },
    (_, i) => `data-${String(i).padStart(5, "0")}-of-${String(numShards).padStart(5, "0")}.arrow`,
  );
  const n = ds.numRows;
  for (let i = 0; i < numShards; i++) {
    const div = Math.floor(n / numShards);
    const mod = n % numShards;
    const from = div * i + Math.min(i, mod);
    const to = from + div + (i < mod ? 1 : 0);
    writeColumnsFile(join(target, names[i]), ds.features, undefined, function* () {
      for (const b of scanColumns(ds.scanSource(), {
        batchSize: 1000,
        columns: ds.columnNames,
        typed: true,
        from,
        to,
      })) {
        yield { columns: b.columns, length: b.length };
      }
    });
  }
  const format = ds.format;
  const state = {
    _data_files: names.map((filename) => ({ filename })),
    _fingerprint: ds.fingerprint,
    _format_columns: format.columns,
    _format_kwargs: {},
    // Python's names: numpy for typed arrays, torch for tensors.
    _format_type: { js: null, typed: "numpy", arrow: "arrow", tensor: "torch" }[format.type],
    _output_all_columns: false,
    _split: ds.split,
  };
  // asdict(DatasetInfo): the always-present fields, then what loading recorded (builder, splits...).
  const extra = ds.info ?? {};
  const info: Record<string, unknown> = {
    citation: "",
    description: "",
    features: featuresToJson(ds.features),
    homepage: "",
    license: "",
    ...extra,
  };
  if (typeof extra.dataset_size === "number" && typeof extra.download_size === "number") {
    info.size_in_bytes = extra.dataset_size + extra.download_size;
  }
  // dataset_info.json sorts only the first level (nested feature order matters); state.json sorts all.
  writeJsonAtomic(join(target, "state.json"), state, true);
  writeJsonAtomic(
    join(target, "dataset_info.json"),
    Object.fromEntries(
      Object.keys(info)
        .sort()
        .map((k) => [k, (info as Record<string, unknown>)[k]]),
    ),
    false,
  );
}

/** Reads what {@link saveToDisk} (or Python's `save_to_disk`) wrote: a Dataset or a DatasetDict. */
export function loadFromDisk(path: string): Dataset | DatasetDict {
  if (!existsSync(path)) throw fail("HEARTH_DATASETS_FILE_NOT_FOUND", `loadFromDisk: '${path}' does not exist`);
  const dictFile = join(path, "dataset_dict.json");
  if (existsSync(dictFile)) {
    const { splits } = JSON.parse(readFileSync(dictFile, "utf8")) as { splits: string[] };
    const dd = new DatasetDict();
    for (const s of splits) dd.set(s, loadFromDisk(join(path, s)) as Dataset);
    return dd;
  }
  const stateFile = join(path, "state.json");
  const infoFile = join(path, "dataset_info.json");
  if (!existsSync(stateFile) || !existsSync(infoFile)) {
    throw fail(
      "HEARTH_DATASETS_NOT_A_SAVED_DATASET",
      `loadFromDisk: '${path}' lacks state.json or dataset_info.json; it was not written by saveToDisk`,
    );
  }
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    _data_files: { filename: string }[];
    _fingerprint: string;
    _split: string | null;
    _format_columns: string[] | null;
    _format_type: string | null;
  };
  const info = JSON.parse(readFileSync(infoFile, "utf8")) as { features?: unknown };
  const files = state._data_files.map((f) => join(path, f.filename));
  const ds = Dataset.fromArrowFiles(files, {
    fingerprint: state._fingerprint,
    split: state._split ?? undefined,
    features: info.features ? featuresFromJson(info.features, `${infoFile} features`) : undefined,
  });
  const types: Record<string, "arrow" | "typed" | "tensor"> = {
    arrow: "arrow",
    numpy: "typed",
    torch: "tensor",
    pt: "tensor",
  };
  const type = state._format_type ? (types[state._format_type] ?? "typed") : "js";
  // Set directly: a saved "torch" format must load even before "@hearth/datasets/tensor" is imported.
  return ds.with({ format: { type, columns: state._format_columns } });
}

/** Removes a saved dataset folder (helper for overwriting). */
export function removeSaved(path: string): void {
  rmSync(path, { recursive: true, force: true });
}
