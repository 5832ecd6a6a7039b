import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { RecordBatchReader } from "apache-arrow";
import {
  ClassLabel,
  Dataset,
  DatasetDict,
  type HubUploader,
  Image,
  loadDataset,
  loadFromDisk,
  pushToHub,
  saveToDisk,
  toCsv,
  toJson,
  toParquet,
} from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const { dir, cleanup } = tempDir();
after(cleanup);

const make = () =>
  Dataset.fromDict(
    { text: ["a", "b", "c"], label: [0, 1, 0], tags: [["x"], [], ["y", "z"]] },
    { cacheDir: dir, features: { label: ClassLabel({ names: ["neg", "pos"] }) } as never },
  );

describe("saveToDisk", () => {
  test("writes Python's layout field for field", () => {
    const ds = make().shuffle({ seed: 1 });
    const out = join(dir, "saved");
    saveToDisk(ds, out);
    assert.deepEqual(readdirSync(out).sort(), ["data-00000-of-00001.arrow", "dataset_info.json", "state.json"]);
    // json.dump(state, indent=2, sort_keys=True) as Python writes it.
    assert.equal(
      readFileSync(join(out, "state.json"), "utf8"),
      `{\n  "_data_files": [\n    {\n      "filename": "data-00000-of-00001.arrow"\n    }\n  ],\n  "_fingerprint": "${ds.fingerprint}",\n  "_format_columns": null,\n  "_format_kwargs": {},\n  "_format_type": null,\n  "_output_all_columns": false,\n  "_split": null\n}`,
    );
    // asdict(DatasetInfo) with its first-level keys sorted; nested feature keys keep Python's order.
    assert.equal(
      readFileSync(join(out, "dataset_info.json"), "utf8"),
      `{\n  "citation": "",\n  "description": "",\n  "features": {\n    "text": {\n      "dtype": "string",\n      "_type": "Value"\n    },\n    "label": {\n      "names": [\n        "neg",\n        "pos"\n      ],\n      "_type": "ClassLabel"\n    },\n    "tags": {\n      "feature": {\n        "dtype": "string",\n        "_type": "Value"\n      },\n      "_type": "List"\n    }\n  },\n  "homepage": "",\n  "license": ""\n}`,
    );
    // The shard is an Arrow IPC stream with the features in the `huggingface` schema metadata.
    const reader = RecordBatchReader.from(readFileSync(join(out, "data-00000-of-00001.arrow"))).open();
    assert.ok(reader.isStream());
    const meta = JSON.parse(reader.schema.metadata.get("huggingface") as string);
    assert.deepEqual(meta.info.features.label, { names: ["neg", "pos"], _type: "ClassLabel" });
    assert.equal(
      [...reader].reduce((n, b) => n + b.numRows, 0),
      3,
    );
    // The index mapping was written out: rows are in shuffled order.
    const back = loadFromDisk(out) as Dataset;
    assert.deepEqual(back.column("text"), ds.column("text"));
    assert.deepEqual(back.features, ds.features);
    assert.equal(back.fingerprint, ds.fingerprint);
  });

  test("DatasetDict: dataset_dict.json and a folder per split; shards", () => {
    const dd = new DatasetDict([
      ["train", make()],
      ["test", make().select([0])],
    ]);
    const out = join(dir, "dict");
    saveToDisk(dd, out, { numShards: 2 });
    assert.equal(
      readFileSync(join(out, "dataset_dict.json"), "utf8"),
      `{\n  "splits": [\n    "train",\n    "test"\n  ]\n}`,
    );
    assert.ok(readdirSync(join(out, "train")).includes("data-00001-of-00002.arrow"));
    const back = loadFromDisk(out) as DatasetDict;
    assert.deepEqual(back.split("train").column("text"), ["a", "b", "c"]);
    assert.deepEqual(back.split("test").column("text"), ["a"]);
    assert.throws(() => loadFromDisk(dir), { code: "HEARTH_DATASETS_NOT_A_SAVED_DATASET" });
  });
});

describe("saveToDisk of a loaded dataset", () => {
  test("dataset_info.json carries the builder, splits and download fields Python records", async () => {
    const csv = join(dir, "info.csv");
    writeFileSync(csv, "a,b\n1,x\n2,y\n");
    const ds = await loadDataset(csv, { split: "train", cacheDir: join(dir, "c") });
    saveToDisk(ds, join(dir, "saved-csv"));
    const info = JSON.parse(readFileSync(join(dir, "saved-csv", "dataset_info.json"), "utf8"));
    assert.deepEqual(Object.keys(info), [
      "builder_name",
      "citation",
      "config_name",
      "dataset_name",
      "dataset_size",
      "description",
      "download_checksums",
      "download_size",
      "features",
      "homepage",
      "license",
      "size_in_bytes",
      "splits",
      "version",
    ]);
    assert.equal(info.builder_name, "csv");
    assert.equal(info.config_name, "default");
    assert.deepEqual(info.version, { version_str: "0.0.0", major: 0, minor: 0, patch: 0 });
    assert.equal(info.splits.train.num_examples, 2);
    assert.equal(info.download_checksums[csv].num_bytes, 12);
    assert.equal(info.size_in_bytes, info.dataset_size + info.download_size);
    assert.equal(JSON.parse(readFileSync(join(dir, "saved-csv", "state.json"), "utf8"))._split, "train");
  });
});

describe("exports", () => {
  test("toParquet, toJson, toCsv read back through loadDataset", async () => {
    const ds = make();
    toParquet(ds, join(dir, "out.parquet"));
    const pq = await loadDataset(join(dir, "out.parquet"), { split: "train", cacheDir: dir });
    assert.deepEqual(pq.features, ds.features, "features travel in the huggingface metadata");
    assert.deepEqual(pq.column("label"), [0, 1, 0]);
    toJson(ds, join(dir, "out.jsonl"));
    assert.equal(readFileSync(join(dir, "out.jsonl"), "utf8").split("\n")[0], '{"text":"a","label":0,"tags":["x"]}');
    toCsv(ds.removeColumns("tags"), join(dir, "out.csv"));
    const csv = await loadDataset(join(dir, "out.csv"), { split: "train", cacheDir: dir });
    assert.deepEqual(csv.toList(), [
      { text: "a", label: 0 },
      { text: "b", label: 1 },
      { text: "c", label: 0 },
    ]);
  });

  test("toParquet keeps lists, structs, labels, timestamps and images (pyarrow's nesting)", async () => {
    const features = { lab: ClassLabel({ names: ["a", "b"] }), img: Image() };
    const ds = Dataset.fromDict(
      {
        t: ["a", null, "c"],
        n: [1, 2, null],
        l: [[1, 2], [], null],
        s: [{ a: 1, b: "x" }, null, { a: 3, b: null }],
        ls: [[{ k: "p" }], [], [{ k: "q" }, { k: "r" }]],
        lab: [0, 1, 0],
        d: [new Date(1000), null, new Date(2000)],
        img: [{ bytes: new Uint8Array([1, 2, 3]), path: null }, null, { bytes: null, path: "x.png" }],
      },
      { cacheDir: dir, features: features as never },
    );
    toParquet(ds, join(dir, "nested.parquet"));
    const back = await loadDataset(join(dir, "nested.parquet"), {
      split: "train",
      cacheDir: join(dir, "nested-cache"),
    });
    assert.deepEqual(back.features, ds.features);
    const plain = (rows: Record<string, unknown>[]) =>
      rows.map((r) => ({ ...r, img: (r.img as { toJSON(): unknown } | null)?.toJSON() ?? null }));
    assert.deepEqual(plain(back.toList()), plain(ds.toList()));
  });

  test("pushToHub: parquet shards and a README with configs", async () => {
    const got: { repo: string; paths: string[]; readme: string } = { repo: "", paths: [], readme: "" };
    const uploader: HubUploader = {
      async uploadFiles(repoId, files) {
        got.repo = repoId;
        got.paths = files.map((f) => f.path);
        got.readme = new TextDecoder().decode(files.find((f) => f.path === "README.md")?.content);
      },
    };
    await pushToHub(new DatasetDict([["train", make()]]), "me/toy", { uploader, maxShardRows: 2 });
    assert.equal(got.repo, "me/toy");
    assert.deepEqual(got.paths, [
      "data/train-00000-of-00002.parquet",
      "data/train-00001-of-00002.parquet",
      "README.md",
    ]);
    assert.match(
      got.readme,
      /configs:\n {2}- config_name: default\n {4}data_files:\n {6}- split: train\n {8}path: data\/train-\*/,
    );
    assert.match(got.readme, /class_label:/);
  });
});
