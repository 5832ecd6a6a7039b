/**
 * `pushToHub`: Parquet shards under `data/<split>-0000i-of-0000n.parquet` plus a README whose YAML
 * header holds `dataset_info` and `configs` (`data_files: [{split, path: data/<split>-*}]`), the
 * layout Python's `push_to_hub` writes. Uploading is delegated to a {@link HubUploader}.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import type { Dataset } from "../dataset/dataset.ts";
import { DatasetDict } from "../dataset/dataset-dict.ts";
import { type Feature, type Features, featureKind, type ListFeature } from "../features/features.ts";
import { toParquet } from "./export.ts";

/** Uploads files to a dataset repository in one commit (e.g. through `@hearth/hub`). */
export interface HubUploader {
  uploadFiles(
    repoId: string,
    files: { path: string; content: Uint8Array }[],
    options: { commitMessage: string; revision?: string },
  ): Promise<void>;
}

function yamlDtype(f: Feature): unknown {
  switch (featureKind(f)) {
    case "Value":
      return (f as { dtype: string }).dtype;
    case "ClassLabel":
      return {
        class_label: { names: Object.fromEntries((f as { names: string[] }).names.map((n, i) => [String(i), n])) },
      };
    case "List":
      return { list: yamlDtype((f as ListFeature).feature) };
    case "Image":
      return "image";
    case "Audio":
      return "audio";
    default:
      return { struct: yamlFeatures(f as Features) };
  }
}

function yamlFeatures(features: Features): unknown[] {
  return Object.entries(features).map(([name, f]) => ({ name, dtype: yamlDtype(f) }));
}

/** Writes the shards and README for `data` and hands them to the uploader. Returns the repo paths. */
export async function pushToHub(
  data: Dataset | DatasetDict,
  repoId: string,
  options: { uploader: HubUploader; maxShardRows?: number; commitMessage?: string; revision?: string; split?: string },
): Promise<string[]> {
  const splits: [string, Dataset][] =
    data instanceof DatasetDict ? [...data] : [[options.split ?? data.split ?? "train", data]];
  const dir = mkdtempSync(join(tmpdir(), "hearth-push-"));
  try {
    const files: { path: string; content: Uint8Array }[] = [];
    const splitInfo: unknown[] = [];
    let total = 0;
    for (const [split, ds] of splits) {
      const rowsPerShard = options.maxShardRows ?? 500_000;
      const numShards = Math.max(1, Math.ceil(ds.numRows / rowsPerShard));
      let bytes = 0;
      for (let i = 0; i < numShards; i++) {
        const name = `${split}-${String(i).padStart(5, "0")}-of-${String(numShards).padStart(5, "0")}.parquet`;
        const local = join(dir, name);
        toParquet(ds.shard({ numShards, index: i, contiguous: true }), local, { embedExternalFiles: true });
        const content = new Uint8Array(readFileSync(local));
        bytes += content.byteLength;
        files.push({ path: `data/${name}`, content });
      }
      total += bytes;
      splitInfo.push({ name: split, num_bytes: bytes, num_examples: ds.numRows });
    }
    const header = {
      dataset_info: {
        features: yamlFeatures(splits[0][1].features),
        splits: splitInfo,
        download_size: total,
        dataset_size: total,
      },
      configs: [{ config_name: "default", data_files: splits.map(([split]) => ({ split, path: `data/${split}-*` })) }],
    };
    const readme = `---\n${stringify(header)}---\n`;
    files.push({ path: "README.md", content: new TextEncoder().encode(readme) });
    await options.uploader.uploadFiles(repoId, files, {
      commitMessage: options.commitMessage ?? "Upload dataset",
      revision: options.revision,
    });
    return files.map((f) => f.path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
