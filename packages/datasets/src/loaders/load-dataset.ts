/**
 * `loadDataset`: one call from a folder, a file, a builder name plus `dataFiles`, or a hub repo id
 * to a {@link DatasetDict} (or one {@link Dataset} with `split`). Each split is converted once to
 * an Arrow cache file under `cacheDir`, keyed by the files' identities and the options, and mapped
 * on later calls; `streaming: true` reads the files lazily instead.
 */
import { existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, isAbsolute, join, resolve } from "node:path";
import type { AsyncBuffer } from "hyparquet";
import { concatenateDatasets } from "../dataset/concatenate.ts";
import { Dataset } from "../dataset/dataset.ts";
import { DatasetDict } from "../dataset/dataset-dict.ts";
import { hashFingerprint } from "../dataset/fingerprint.ts";
import { fail } from "../errors.ts";
import type { Features } from "../features/features.ts";
import { hubResolver } from "../hub/hub-client.ts";
import { type HubResolver, requireResolver } from "../hub/resolver.ts";
import { IterableDataset, IterableDatasetDict } from "../iterable/iterable-dataset.ts";
import { type BuilderName, type BuilderOptions, buildSplit, filesFor, inferBuilder } from "./builders.ts";
import {
  type DataFilesOption,
  inferSplits,
  listFiles,
  patternsPerSplit,
  readmeConfigs,
  resolveDataFiles,
  type SplitFiles,
} from "./data-files.ts";

const BUILDERS: BuilderName[] = ["csv", "json", "parquet", "arrow", "text", "imagefolder", "audiofolder", "textfolder"];

/** Options of {@link loadDataset}. */
export interface LoadDatasetOptions extends BuilderOptions {
  /** The config (README `configs` entry) to load; default: the one marked default, else the first. */
  name?: string;
  /** Files per split (globs relative to the dataset folder or repo). */
  dataFiles?: DataFilesOption;
  /** A sub-folder to read, for builder names or repos. */
  dataDir?: string;
  /** Return one split instead of all. */
  split?: string;
  /** Read lazily as an {@link IterableDataset} instead of converting to Arrow. */
  streaming?: boolean;
  /** Hub revision (branch, tag or commit). */
  revision?: string;
  /** Where converted splits go (default `$HF_DATASETS_CACHE`, `$HF_HOME/datasets`, `~/.cache/huggingface/datasets`). */
  cacheDir?: string;
  /** Column types to cast to instead of inferring them. */
  features?: Features;
  /** How to reach hub repositories (default: the hub client, `HF_ENDPOINT`). */
  hub?: HubResolver;
  /** `"force_redownload"` rebuilds the Arrow files even when cached. */
  downloadMode?: "reuse_dataset_if_exists" | "force_redownload";
}

/** The datasets cache folder, as Python resolves it. */
export function defaultCacheDir(): string {
  if (process.env.HF_DATASETS_CACHE) return process.env.HF_DATASETS_CACHE;
  const home = process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "huggingface");
  return join(home, "datasets");
}

/** Overloads: a split gives one dataset; streaming gives iterable datasets. */
export async function loadDataset(
  path: string,
  options: LoadDatasetOptions & { split: string; streaming: true },
): Promise<IterableDataset>;
export async function loadDataset(
  path: string,
  options: LoadDatasetOptions & { streaming: true },
): Promise<IterableDatasetDict>;
export async function loadDataset(path: string, options: LoadDatasetOptions & { split: string }): Promise<Dataset>;
export async function loadDataset(path: string, options?: LoadDatasetOptions): Promise<DatasetDict>;
/**
 * Loads a dataset.
 *
 * @example
 * import { loadDataset } from "@hearth/datasets";
 * const dd = await loadDataset("csv", { dataFiles: { train: "train.csv", test: "test.csv" } });
 * const train = await loadDataset("./reviews", { split: "train" });
 */
export async function loadDataset(
  path: string,
  options: LoadDatasetOptions = {},
): Promise<Dataset | DatasetDict | IterableDataset | IterableDatasetDict> {
  const { builder, splits, label, remote } = await resolveSplits(path, options);
  const spec = options.split === undefined ? null : parseSplit(options.split);
  for (const part of spec ?? []) {
    if (!(part.name in splits)) {
      throw fail(
        "HEARTH_DATASETS_SPLIT_NOT_FOUND",
        `loadDataset: '${path}' has no split '${part.name}'; splits are [${Object.keys(splits).join(", ")}]`,
      );
    }
  }
  const wanted = spec ? [...new Set(spec.map((p) => p.name))] : Object.keys(splits);
  if (options.streaming) {
    if (spec) {
      if (spec.length !== 1 || spec[0].from !== null || spec[0].to !== null) {
        throw fail(
          "HEARTH_DATASETS_BAD_ARGUMENT",
          `loadDataset: split '${options.split}' slices or joins splits, which streaming cannot; use take/skip`,
        );
      }
      return IterableDataset.fromFiles(builder, splits[spec[0].name], { ...options, split: spec[0].name, remote });
    }
    const dict = new IterableDatasetDict();
    for (const split of wanted)
      dict.set(split, IterableDataset.fromFiles(builder, splits[split], { ...options, split, remote }));
    return dict;
  }
  const cacheRoot = options.cacheDir ?? defaultCacheDir();
  const { split: _s, hub: _h, streaming: _st, cacheDir: _c, downloadMode: _d, ...keyOptions } = options;
  const dict = new DatasetDict();
  for (const split of wanted) {
    const files = splits[split];
    const identity = files.map((f) => {
      const st = statSync(f);
      return [f, st.size, st.mtimeMs];
    });
    const hash = hashFingerprint({ builder, identity, options: keyOptions });
    const dir = join(cacheRoot, label.replace(/[^\w.-]+/g, "___"), options.name ?? "default", "0.0.0", hash);
    const file = join(dir, `${builder}-${split}.arrow`);
    if (options.downloadMode === "force_redownload" || !existsSync(file)) {
      await buildSplit(builder, files, options, file, hash);
    }
    dict.set(split, Dataset.fromArrowFiles([file], { fingerprint: hashFingerprint({ hash, split }), split }));
  }
  recordInfo(dict, builder, label, options.name ?? "default", splits);
  if (!spec) return dict;
  const parts = spec.map((p) => sliceSplit(dict.split(p.name), p));
  const out = parts.length === 1 ? parts[0] : concatenateDatasets(parts);
  return out.with({ split: options.split ?? null });
}

/**
 * The DatasetInfo fields Python's builders record (`builder_name`, `config_name`, `dataset_name`,
 * `version`, `splits` with byte and row counts, `download_checksums` of the source files), shared
 * by every split as in Python.
 */
function recordInfo(dict: DatasetDict, builder: BuilderName, label: string, config: string, files: SplitFiles): void {
  const datasetName = (BUILDERS as string[]).includes(label) ? builder : (label.split("/").pop() ?? label);
  const splits: Record<string, unknown> = {};
  let datasetSize = 0;
  for (const [name, ds] of dict) {
    const bytes = ds.table().batches.reduce((n, b) => n + b.data.byteLength, 0);
    datasetSize += bytes;
    splits[name] = { name, num_bytes: bytes, num_examples: ds.numRows, dataset_name: datasetName };
  }
  const checksums: Record<string, unknown> = {};
  let downloadSize = 0;
  for (const [name, paths] of Object.entries(files)) {
    if (!dict.has(name)) continue;
    for (const f of paths) {
      const size = statSync(f).size;
      downloadSize += size;
      checksums[f] = { num_bytes: size, checksum: null };
    }
  }
  const info = {
    builder_name: builder,
    config_name: config,
    dataset_name: datasetName,
    version: { version_str: "0.0.0", major: 0, minor: 0, patch: 0 },
    splits,
    download_checksums: checksums,
    download_size: downloadSize,
    dataset_size: datasetSize,
  };
  for (const [name, ds] of dict) dict.set(name, ds.with({ info }));
}

/** One part of a split expression: `train`, `train[:10%]`, `test[5:-5]`. */
interface SplitPart {
  name: string;
  from: { value: number; percent: boolean } | null;
  to: { value: number; percent: boolean } | null;
}

const SPLIT_PART = /^([\w.-]+)(?:\[(-?\d+%?)?:(-?\d+%?)?\])?$/;

/** Parses Python's split syntax: parts joined by `+`, each an optional `[from:to]` slice (rows or %). */
export function parseSplit(split: string): SplitPart[] {
  return split.split("+").map((raw) => {
    const m = SPLIT_PART.exec(raw.trim());
    if (!m) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `loadDataset: split '${split}' is not NAME or NAME[from:to] (rows or percents) joined by '+'`,
      );
    }
    const bound = (b: string | undefined) =>
      b === undefined ? null : { value: Number.parseInt(b, 10), percent: b.endsWith("%") };
    return { name: m[1], from: bound(m[2]), to: bound(m[3]) };
  });
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function sliceSplit(ds: Dataset, part: SplitPart): Dataset {
  if (!part.from && !part.to) return ds;
  const n = ds.numRows;
  const abs = (b: { value: number; percent: boolean } | null, fallback: number) => {
    if (!b) return fallback;
    const v = b.percent ? roundHalfEven((b.value * n) / 100) : b.value;
    return Math.max(0, Math.min(n, v < 0 ? n + v : v));
  };
  const from = abs(part.from, 0);
  const to = abs(part.to, n);
  return ds.select({ start: from, end: Math.max(from, to) });
}

async function resolveSplits(
  path: string,
  options: LoadDatasetOptions,
): Promise<{
  builder: BuilderName;
  splits: SplitFiles;
  label: string;
  remote?: Map<string, () => Promise<AsyncBuffer>>;
}> {
  // 1. A builder name: files come from dataFiles (relative to dataDir or the working directory).
  if ((BUILDERS as string[]).includes(path)) {
    const builder = path as BuilderName;
    const base = resolve(options.dataDir ?? ".");
    if (!options.dataFiles && !options.dataDir) {
      throw fail("HEARTH_DATASETS_BAD_ARGUMENT", `loadDataset('${path}'): give 'dataFiles' or 'dataDir'`);
    }
    const splits = options.dataFiles ? resolveAbsolute(base, options.dataFiles) : inferSplits(listFiles(base));
    // A builder named explicitly reads every file it is given (Python filters extensions only
    // when it infers the builder).
    return {
      builder,
      splits: absolutise(base, options.dataFiles ? splits : filterSplits(builder, splits)),
      label: `${builder}`,
    };
  }
  // 2. A local file or folder.
  if (existsSync(path)) {
    const full = resolve(path);
    if (statSync(full).isFile()) {
      const builder = inferBuilder([full], `'${path}'`);
      return { builder, splits: { train: [full] }, label: builder };
    }
    const base = options.dataDir ? join(full, options.dataDir) : full;
    const all = listFiles(base).filter((f) => !isMetadataFile(f));
    const splits = pickSplits(all, options, join(full, "README.md"), `'${path}'`);
    const builder = inferBuilder(Object.values(splits).flat(), `'${path}'`);
    return { builder, splits: absolutise(base, filterSplits(builder, splits)), label: basename(full) };
  }
  // 3. A hub repository id.
  if (/^[\w.-]+(\/[\w.-]+)?$/.test(path) && !isAbsolute(path)) {
    const hub = requireResolver(options.hub, () => hubResolver());
    const listed = await hub.listFiles(path, { revision: options.revision });
    const all = listed.filter((f) => !isMetadataFile(f));
    const dl = (f: string) => hub.downloadFile(path, f, { revision: options.revision, cacheDir: options.cacheDir });
    const readme = listed.includes("README.md") ? await dl("README.md") : "";
    const sub = options.dataDir;
    const scoped = sub ? all.filter((f) => f.startsWith(`${sub}/`)).map((f) => f.slice(sub.length + 1)) : all;
    const chosen = pickSplits(scoped, options, readme, `repository '${path}'`);
    const builder = inferBuilder(Object.values(chosen).flat(), `repository '${path}'`);
    const inRepo = (f: string) => (sub ? `${sub}/${f}` : f);
    const openFile = hub.openFile?.bind(hub);
    if (options.streaming && builder === "parquet" && openFile) {
      // Streaming Parquet from the hub reads byte ranges (footer, then row groups): nothing is downloaded.
      const remote = new Map<string, () => Promise<AsyncBuffer>>();
      const out: SplitFiles = {};
      for (const [split, files] of Object.entries(filterSplits(builder, chosen))) {
        out[split] = files.map((f) => {
          const name = `hf://datasets/${path}/${inRepo(f)}`;
          remote.set(name, () => openFile(path, inRepo(f), { revision: options.revision }));
          return name;
        });
      }
      return { builder, splits: out, label: path, remote };
    }
    const local: SplitFiles = {};
    for (const [split, files] of Object.entries(filterSplits(builder, chosen))) {
      local[split] = await Promise.all(files.map((f) => dl(inRepo(f))));
    }
    return { builder, splits: local, label: path };
  }
  throw fail(
    "HEARTH_DATASETS_FILE_NOT_FOUND",
    `loadDataset: '${path}' is neither a builder name, a local path, nor a repository id`,
  );
}

function isMetadataFile(f: string): boolean {
  const name = f.split("/").pop() ?? f;
  return (
    name === "README.md" ||
    name === ".gitattributes" ||
    name === "dataset_infos.json" ||
    name === "dataset_info.json" ||
    name === "state.json"
  );
}

function pickSplits(all: string[], options: LoadDatasetOptions, readmePath: string, where: string): SplitFiles {
  if (options.dataFiles) return resolveDataFiles(all, options.dataFiles, where);
  const configs = readmePath ? readmeConfigs(readmePath) : [];
  if (configs.length) {
    const config = options.name
      ? configs.find((c) => c.configName === options.name)
      : (configs.find((c) => c.isDefault) ?? configs.find((c) => c.configName === "default") ?? configs[0]);
    if (!config) {
      throw fail(
        "HEARTH_DATASETS_BAD_ARGUMENT",
        `loadDataset: ${where} has no config '${options.name}'; configs are [${configs.map((c) => c.configName).join(", ")}]`,
      );
    }
    if (config.dataFiles) return resolveDataFiles(all, config.dataFiles, where);
    if (config.dataDir) {
      const inDir = all.filter((f) => f.startsWith(`${config.dataDir}/`));
      return inferSplits(inDir);
    }
  }
  return inferSplits(all);
}

function filterSplits(builder: BuilderName, splits: SplitFiles): SplitFiles {
  const out: SplitFiles = {};
  for (const [k, files] of Object.entries(splits)) {
    const kept = filesFor(builder, files);
    if (kept.length) out[k] = kept;
  }
  return out;
}

/** `dataFiles` relative to `base`; absolute paths of existing files bypass pattern matching. */
function resolveAbsolute(base: string, dataFiles: DataFilesOption): SplitFiles {
  const all = listFiles(base);
  const out: SplitFiles = {};
  for (const [split, patterns] of Object.entries(patternsPerSplit(dataFiles))) {
    const abs = patterns.filter((p) => isAbsolute(p) && existsSync(p));
    const rel = patterns.filter((p) => !abs.includes(p));
    out[split] = [...abs, ...(rel.length ? resolveDataFiles(all, { [split]: rel }, `'${base}'`)[split] : [])];
  }
  return out;
}

function absolutise(base: string, splits: SplitFiles): SplitFiles {
  const out: SplitFiles = {};
  for (const [k, files] of Object.entries(splits)) out[k] = files.map((f) => (isAbsolute(f) ? f : join(base, f)));
  return out;
}
