/**
 * Sharded checkpoints, as transformers writes them for large models:
 *
 *   model-00001-of-00003.safetensors ... model-00003-of-00003.safetensors
 *   model.safetensors.index.json   {"metadata": {"total_size": BYTES}, "weight_map": {name: shard file}}
 *
 * Writing follows transformers' `shard_checkpoint` (4.40): tensors are taken in the given order and
 * a new shard starts when the next tensor would push the current one past the maximum size (a
 * tensor larger than the maximum gets a shard of its own). A single shard is written as plain
 * `model.safetensors` with no index. The index is `json.dumps(index, indent=2, sort_keys=True)`
 * plus a newline.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { DTYPES } from "./dtypes.ts";
import { SafetensorsErrorCode as Code, fail } from "./errors.ts";
import type { TensorInfo } from "./header.ts";
import { compareNames, type RawTensor, type SafetensorsFile, safeOpenSync, type TensorSource } from "./open.ts";
import { saveFile, type TensorData, type TensorMap } from "./serialize.ts";

/** The default weights file name (transformers' `SAFE_WEIGHTS_NAME`). */
export const SAFE_WEIGHTS_NAME = "model.safetensors";
/** The default index name (transformers' `SAFE_WEIGHTS_INDEX_NAME`). */
export const SAFE_WEIGHTS_INDEX_NAME = "model.safetensors.index.json";

const UNITS: Record<string, number> = {
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  KIB: 2 ** 10,
  MIB: 2 ** 20,
  GIB: 2 ** 30,
  TIB: 2 ** 40,
};

/**
 * Bytes in a size written as transformers accepts it: a number of bytes, or digits and a unit,
 * decimal (`"5GB"` = 5·10⁹) or binary (`"5GiB"` = 5·2³⁰); a lower-case `b` means bits (`"8Gb"` = 1 GB).
 */
export function parseSize(size: number | string): number {
  if (typeof size === "number") {
    if (Number.isSafeInteger(size) && size > 0) return size;
    return fail(Code.BAD_INPUT, `parseSize: size must be a positive integer of bytes, got ${size}`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?)?([Bb])\s*$/i.exec(size);
  if (!match) {
    return fail(
      Code.BAD_INPUT,
      `parseSize: size must be digits and a unit such as "5GB" or "500MiB", got ${JSON.stringify(size)}`,
    );
  }
  const [, digits, prefix = "", unit] = match;
  const bytes = Number(digits) * (UNITS[`${prefix.toUpperCase()}B`] as number);
  const value = Math.floor(unit === "b" ? bytes / 8 : bytes);
  if (value <= 0) return fail(Code.BAD_INPUT, `parseSize: size must be positive, got ${JSON.stringify(size)}`);
  return value;
}

/** Options for {@link saveSharded}. */
export interface SaveShardedOptions {
  /** Largest shard, in bytes or as `"5GB"`; transformers' default is `"5GB"`. */
  maxShardSize?: number | string;
  /** The single-file name; shards are named from it (`model-00001-of-00002.safetensors`). */
  weightsName?: string;
  /** `__metadata__` of every shard; transformers writes `{format: "pt"}`. */
  metadata?: Record<string, string> | null;
}

/** What {@link saveSharded} wrote. */
export interface SavedCheckpoint {
  /** Shard file names (relative to the folder), in order. */
  files: string[];
  /** The index written, or `null` when everything fit in one file. */
  index: ShardIndex | null;
}

/** The contents of `model.safetensors.index.json`. */
export interface ShardIndex {
  metadata: { total_size: number } & Record<string, unknown>;
  weight_map: Record<string, string>;
}

/**
 * Writes `tensors` into `folder` as one file or as shards with an index, each file atomically,
 * shards before the index; then removes shards of an earlier save that the new index no longer
 * names (as transformers does).
 *
 * @example
 * await saveSharded(stateDict, "out/", { maxShardSize: "2GB" });
 */
export async function saveSharded(
  tensors: TensorMap,
  folder: string,
  options: SaveShardedOptions = {},
): Promise<SavedCheckpoint> {
  const maxShardSize = parseSize(options.maxShardSize ?? "5GB");
  const weightsName = options.weightsName ?? SAFE_WEIGHTS_NAME;
  const metadata = options.metadata === undefined ? { format: "pt" } : options.metadata;
  const entries: [string, TensorData][] =
    tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors as Record<string, TensorData>);

  const shards: [string, TensorData][][] = [[]];
  let shardBytes = 0;
  let totalSize = 0;
  for (const entry of entries) {
    const t = entry[1];
    const bytes = t.shape.reduce((a, b) => a * b, DTYPES[t.dtype]?.size ?? 0);
    const current = shards[shards.length - 1] as [string, TensorData][];
    if (shardBytes + bytes > maxShardSize && current.length > 0) {
      shards.push([]);
      shardBytes = 0;
    }
    (shards[shards.length - 1] as [string, TensorData][]).push(entry);
    shardBytes += bytes;
    totalSize += bytes;
  }

  if (shards.length === 1) {
    await saveFile(new Map(shards[0]), join(folder, weightsName), metadata);
    return { files: [weightsName], index: null };
  }
  const stem = weightsName.replace(/\.safetensors$/, "");
  const count = String(shards.length).padStart(5, "0");
  const files = shards.map((_, i) => `${stem}-${String(i + 1).padStart(5, "0")}-of-${count}.safetensors`);
  const weightMap: Record<string, string> = {};
  for (const [i, shard] of shards.entries()) {
    await saveFile(new Map(shard), join(folder, files[i] as string), metadata);
    for (const [name] of shard) weightMap[name] = files[i] as string;
  }
  const index: ShardIndex = { metadata: { total_size: totalSize }, weight_map: weightMap };
  await writeFileAtomic(join(folder, `${weightsName}.index.json`), async (handle) => {
    await handle.writeFile(`${pythonJson(index, 0)}\n`);
  });
  await removeStaleShards(folder, stem, new Set(files));
  return { files, index };
}

/** Deletes `<stem>-NNNNN-of-NNNNN.safetensors` files in `folder` that are not in `keep`. */
async function removeStaleShards(folder: string, stem: string, keep: Set<string>): Promise<void> {
  const pattern = /^(.*?)-\d{5}-of-\d{5}\.safetensors$/;
  for (const name of await readdir(folder)) {
    if (!name.startsWith(stem) || keep.has(name) || !pattern.test(name)) continue;
    if (name.slice(0, name.length - "-00000-of-00000.safetensors".length) !== stem) continue;
    await rm(join(folder, name), { force: true });
  }
}

/**
 * `json.dumps(value, indent=2, sort_keys=True)` (ensure_ascii on): keys sorted by code point,
 * two-space indent, `": "` and `","` separators, non-ASCII escaped as `\uXXXX`.
 */
export function pythonJson(value: unknown, depth: number): string {
  const pad = "  ".repeat(depth + 1);
  const close = "  ".repeat(depth);
  if (value === null || typeof value !== "object") {
    return JSON.stringify(value).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
    );
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => pad + pythonJson(v, depth + 1)).join(",\n")}\n${close}]`;
  }
  const keys = Object.keys(value).sort(compareNames);
  if (keys.length === 0) return "{}";
  const items = keys.map(
    (k) => `${pad}${pythonJson(k, depth + 1)}: ${pythonJson((value as Record<string, unknown>)[k], depth + 1)}`,
  );
  return `{\n${items.join(",\n")}\n${close}}`;
}

/**
 * A sharded checkpoint opened from its index: tensors are found through `weight_map` and each
 * shard is mapped the first time one of its tensors is asked for.
 */
export class ShardedCheckpoint implements TensorSource {
  /** Path of the index file. */
  readonly indexPath: string;
  /** The index's `metadata` (`total_size` and anything else the writer put there). */
  readonly metadata: Record<string, unknown> | null;
  /** The shard files the index names, in order of first appearance. */
  readonly files: string[];
  readonly #weightMap: Map<string, string>;
  readonly #open = new Map<string, SafetensorsFile>();

  constructor(indexPath: string, metadata: Record<string, unknown> | null, weightMap: Map<string, string>) {
    this.indexPath = indexPath;
    this.metadata = metadata;
    this.#weightMap = weightMap;
    this.files = [...new Set(weightMap.values())];
  }

  keys(): string[] {
    return [...this.#weightMap.keys()].sort(compareNames);
  }

  has(name: string): boolean {
    return this.#weightMap.has(name);
  }

  /** The shard holding `name`, mapped on first use. */
  shardOf(name: string): SafetensorsFile {
    const file = this.#weightMap.get(name);
    if (file === undefined) {
      return fail(
        Code.TENSOR_NOT_FOUND,
        `safetensors: the index ${this.indexPath} has no tensor '${name}' in its weight_map`,
      );
    }
    let shard = this.#open.get(file);
    if (!shard) {
      shard = safeOpenSync(join(dirname(this.indexPath), file));
      this.#open.set(file, shard);
    }
    if (!shard.has(name)) {
      fail(
        Code.SHARD_MISMATCH,
        `safetensors: the index ${this.indexPath} puts tensor '${name}' in ${file}, but that shard does not hold it`,
      );
    }
    return shard;
  }

  info(name: string): TensorInfo {
    return this.shardOf(name).info(name);
  }

  raw(name: string): RawTensor {
    return this.shardOf(name).raw(name);
  }
}

/**
 * Opens a sharded checkpoint from its index file, checking that the index is well formed and that
 * every shard it names exists (shards are mapped lazily).
 *
 * @example
 * const ckpt = await openSharded("llama/model.safetensors.index.json");
 * const q = ckpt.raw("model.layers.0.self_attn.q_proj.weight");
 */
export async function openSharded(indexPath: string): Promise<ShardedCheckpoint> {
  let text: string;
  try {
    text = await readFile(indexPath, "utf8");
  } catch (error) {
    return fail(Code.IO, `safetensors: cannot read the index ${indexPath}: ${(error as Error).message}`, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail(
      Code.BAD_INDEX,
      `safetensors: the index ${indexPath} is not valid JSON (${(error as Error).message})`,
      error,
    );
  }
  const index = json as Partial<ShardIndex> | null;
  if (
    typeof index !== "object" ||
    index === null ||
    typeof index.weight_map !== "object" ||
    index.weight_map === null ||
    Array.isArray(index.weight_map)
  ) {
    fail(Code.BAD_INDEX, `safetensors: the index ${indexPath} needs a "weight_map" object of tensor name → shard file`);
  }
  const metadata = index.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== "object" || Array.isArray(metadata))) {
    fail(Code.BAD_INDEX, `safetensors: "metadata" in the index ${indexPath} must be an object`);
  }
  const weightMap = new Map<string, string>();
  const byShard = new Map<string, string[]>();
  for (const [name, file] of Object.entries(index.weight_map)) {
    if (typeof file !== "string" || file === "" || isAbsolute(file) || normalize(file).split(/[\\/]/).includes("..")) {
      fail(
        Code.BAD_INDEX,
        `safetensors: the index ${indexPath} maps '${name}' to ${JSON.stringify(file)}; expected a file name inside the checkpoint folder`,
      );
    }
    weightMap.set(name, file);
    byShard.set(file, [...(byShard.get(file) ?? []), name]);
  }
  const folder = dirname(indexPath);
  for (const [file, names] of byShard) {
    const found = await stat(join(folder, file)).then(
      (s) => s.isFile(),
      () => false,
    );
    if (!found) {
      const some = names
        .slice(0, 3)
        .map((n) => `'${n}'`)
        .join(", ");
      fail(
        Code.SHARD_MISSING,
        `safetensors: the index ${indexPath} names the shard ${file} (holding ${names.length} tensor${names.length === 1 ? "" : "s"}, e.g. ${some}), but ${join(folder, file)} does not exist; the download is incomplete`,
      );
    }
  }
  return new ShardedCheckpoint(indexPath, (metadata as Record<string, unknown> | undefined) ?? null, weightMap);
}

/**
 * Opens the weights in `path`: a `.safetensors` file, an index file, or a folder holding
 * `model.safetensors` (preferred, as transformers does) or `model.safetensors.index.json`.
 *
 * @example
 * const weights = await openCheckpoint("models/gpt2");
 */
export async function openCheckpoint(path: string, weightsName = SAFE_WEIGHTS_NAME): Promise<TensorSource> {
  const kind = await stat(path).then(
    (s) => (s.isDirectory() ? "dir" : "file"),
    () => "missing",
  );
  if (kind === "missing") return fail(Code.IO, `safetensors: openCheckpoint: ${path} does not exist`);
  if (kind === "file") return path.endsWith(".json") ? openSharded(path) : safeOpenSync(path);
  const single = join(path, weightsName);
  if (
    await stat(single).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return safeOpenSync(single);
  const indexPath = join(path, `${weightsName}.index.json`);
  if (
    await stat(indexPath).then(
      (s) => s.isFile(),
      () => false,
    )
  )
    return openSharded(indexPath);
  return fail(
    Code.IO,
    `safetensors: openCheckpoint: ${path} holds neither ${weightsName} nor ${weightsName}.index.json`,
  );
}
