import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { DatasetDict, loadDataset, localFolderResolver } from "../src/index.ts";
import { dataPath, haveShared, sharedOnly, tempDir } from "./helpers.ts";

const { dir: cacheDir, cleanup } = tempDir();
after(cleanup);

const PQ = dataPath("datasets/columnar/parquet-testing");
const expectedRows: Record<string, number> = {
  "alltypes_dictionary.parquet": 2,
  "alltypes_plain.parquet": 8,
  "alltypes_plain.snappy.parquet": 2,
  "byte_stream_split.zstd.parquet": 300,
  "datapage_v2.snappy.parquet": 5,
  "delta_byte_array.parquet": 1000,
  "list_columns.parquet": 3,
  "nested_structs.rust.parquet": 1,
  "nulls.snappy.parquet": 8,
};

describe("columnar files", () => {
  test("every parquet-testing file loads with its row count", async () => {
    const files = readdirSync(PQ).filter((f) => f.endsWith(".parquet"));
    assert.deepEqual(files.sort(), Object.keys(expectedRows).sort());
    for (const f of files) {
      const ds = await loadDataset(join(PQ, f), { split: "train", cacheDir });
      assert.equal(ds.numRows, expectedRows[f], f);
    }
  });

  test("alltypes_plain: types as pyarrow reads them and the known values", async () => {
    const ds = await loadDataset(join(PQ, "alltypes_plain.parquet"), { split: "train", cacheDir });
    assert.equal(ds.features.id._type, "Value");
    assert.deepEqual(
      Object.fromEntries(Object.entries(ds.features).map(([k, f]) => [k, (f as { dtype: string }).dtype])),
      {
        id: "int32",
        bool_col: "bool",
        tinyint_col: "int32",
        smallint_col: "int32",
        int_col: "int32",
        bigint_col: "int64",
        float_col: "float32",
        double_col: "float64",
        date_string_col: "binary",
        string_col: "binary",
        timestamp_col: "timestamp[ns]",
      },
    );
    assert.deepEqual(Array.from(ds.column("id")), [4, 5, 6, 7, 2, 3, 0, 1]);
    const row = ds.get(0);
    assert.equal(new TextDecoder().decode(row.date_string_col as Uint8Array), "03/01/09");
    assert.equal((row.timestamp_col as Date).toISOString(), "2009-03-01T00:00:00.000Z");
  });

  test("delta_byte_array.parquet equals delta_byte_array_expect.csv row for row", async () => {
    const pq = await loadDataset(join(PQ, "delta_byte_array.parquet"), { split: "train", cacheDir });
    const csv = await loadDataset("csv", {
      dataFiles: join(PQ, "delta_byte_array_expect.csv"),
      split: "train",
      cacheDir,
    });
    assert.equal(pq.numRows, 1000);
    assert.deepEqual(pq.columnNames, csv.columnNames);
    const a = pq.toList();
    const b = csv.toList();
    let nulls = 0;
    for (let i = 0; i < a.length; i++) {
      for (const c of pq.columnNames) {
        const want = b[i][c] === null ? null : String(b[i][c]);
        if (want === null) nulls++;
        assert.equal(a[i][c], want, `row ${i} column ${c}`);
      }
    }
    assert.ok(nulls > 0, "the file has nulls and they must match");
  });

  test("nested and list columns keep their structure", async () => {
    const lists = await loadDataset(join(PQ, "list_columns.parquet"), { split: "train", cacheDir });
    assert.deepEqual(lists.get(0), { int64_list: [1, 2, 3], utf8_list: ["abc", "efg", "hij"] });
    assert.equal(lists.features.int64_list._type, "List");
    const nested = await loadDataset(join(PQ, "nested_structs.rust.parquet"), { split: "train", cacheDir });
    const row = nested.get(0) as Record<string, Record<string, unknown>>;
    assert.equal(row.PC_CUR.count, 495);
    assert.equal(row.PC_CUR.min, 115);
    const nulls = await loadDataset(join(PQ, "nulls.snappy.parquet"), { split: "train", cacheDir });
    assert.deepEqual(nulls.get(3), { b_struct: { b_c_int: null } });
    const v2 = await loadDataset(join(PQ, "datapage_v2.snappy.parquet"), { split: "train", cacheDir });
    assert.deepEqual(v2.get(0), { a: "abc", b: 1, c: 2, d: true, e: [1, 2, 3] });
  });

  test("flights Arrow and Parquet files from ../shared", {
    skip: sharedOnly("datasets/columnar")
      ? false
      : "needs ../shared/data/datasets/columnar (flights, 15 MB: too big for fixtures/'s 30 MB budget), absent here",
  }, async () => {
    const columnar = sharedOnly("datasets/columnar") ?? "";
    const arrow = await loadDataset(join(columnar, "flights-200k.arrow"), { split: "train", cacheDir });
    assert.equal(arrow.numRows, 200000);
    assert.deepEqual(Object.keys(arrow.features), ["delay", "distance", "time"]);
    assert.equal((arrow.features.delay as { dtype: string }).dtype, "int16");
    const pq = await loadDataset(join(columnar, "flights-3m.parquet"), { split: "train", cacheDir });
    assert.equal(pq.numRows, 3000000);
    assert.equal((pq.features.date as { dtype: string }).dtype, "timestamp[us]");
    assert.equal(typeof pq.get(2999999).origin, "string");
  });
});

describe("text corpora", () => {
  test("SOTU text files: one row per line, every file", async () => {
    const dir = dataPath("datasets/text/sotu");
    const dd = await loadDataset(dir, { cacheDir });
    assert.ok(dd instanceof DatasetDict);
    const train = dd.split("train");
    const docs = await loadDataset(dir, { cacheDir, sampleBy: "document", split: "train" });
    assert.equal(docs.numRows, readdirSync(dir).length);
    assert.ok(train.numRows >= docs.numRows);
    assert.ok((docs.get(0).text as string).length > 1000);
  });

  test("spam/ham folders become a labelled dataset", async () => {
    const dir = dataPath("datasets/classification/spam-assassin");
    const ds = await loadDataset("textfolder", { dataDir: dir, split: "train", cacheDir });
    assert.deepEqual(ds.features.label, { _type: "ClassLabel", names: ["easy-ham-2", "spam-2"] });
    const labels = ds.column("label") as number[];
    const spam = readdirSync(join(dir, "spam-2")).length;
    const ham = readdirSync(join(dir, "easy-ham-2")).length;
    assert.equal(ds.numRows, spam + ham);
    assert.equal(labels.filter((l) => l === 1).length, spam);
    assert.match(ds.get(0).text as string, /^(Return-Path|From|Received|Delivered-To)/m);
  });

  test("gzipped preference pairs (JSON Lines)", async () => {
    const file = haveShared
      ? dataPath("datasets/preference/hh-rlhf-harmless-base-test.jsonl.gz")
      : dataPath("datasets/preference/hh-rlhf-harmless-base-test.head200.jsonl.gz");
    const ds = await loadDataset(file, { split: "train", cacheDir });
    assert.equal(ds.numRows, haveShared ? 2312 : 200);
    assert.deepEqual(ds.columnNames, ["chosen", "rejected"]);
    assert.match(ds.get(0).chosen as string, /Human:/);
  });
});

describe("splits, configs and repositories", () => {
  const { dir: root, cleanup: c2 } = tempDir();
  after(c2);
  const repo = join(root, "org", "reviews");
  mkdirSync(join(repo, "data"), { recursive: true });
  writeFileSync(join(repo, "data", "train-00000.csv"), "text,label\ngood,1\nbad,0\n");
  writeFileSync(join(repo, "data", "test.csv"), "text,label\nok,1\n");
  writeFileSync(join(repo, "data", "valid.csv"), "text,label\nmeh,0\n");

  test("split names from file names, as Python infers them", async () => {
    const dd = await loadDataset(repo, { cacheDir });
    assert.deepEqual([...dd.keys()].sort(), ["test", "train", "validation"]);
    assert.deepEqual(dd.split("train").column("text"), ["good", "bad"]);
  });

  test("README YAML configs choose the data files", async () => {
    const withCard = join(root, "org", "carded");
    mkdirSync(withCard, { recursive: true });
    writeFileSync(join(withCard, "a.jsonl"), '{"x": 1}\n{"x": 2}\n');
    writeFileSync(join(withCard, "b.jsonl"), '{"x": 3}\n');
    writeFileSync(
      join(withCard, "README.md"),
      "---\nconfigs:\n- config_name: default\n  data_files:\n  - split: train\n    path: a.jsonl\n  - split: holdout\n    path: b.jsonl\n---\n# card\n",
    );
    const dd = await loadDataset(withCard, { cacheDir });
    assert.deepEqual([...dd.keys()], ["train", "holdout"]);
    assert.deepEqual(dd.split("holdout").column("x"), [3]);
  });

  test("a repository id through a hub resolver", async () => {
    const ds = await loadDataset("org/reviews", { hub: localFolderResolver(root), split: "test", cacheDir });
    assert.deepEqual(ds.toList(), [{ text: "ok", label: 1 }]);
  });

  test("a repository the resolver lacks is a coded error", async () => {
    await assert.rejects(loadDataset("org/nowhere", { hub: localFolderResolver(root), cacheDir }), {
      code: "HEARTH_DATASETS_FILE_NOT_FOUND",
    });
  });

  test("split slicing and joining, as Python's ReadInstruction", async () => {
    const rows = join(root, "rows");
    mkdirSync(rows, { recursive: true });
    writeFileSync(join(rows, "train.jsonl"), Array.from({ length: 10 }, (_, i) => JSON.stringify({ i })).join("\n"));
    writeFileSync(join(rows, "test.jsonl"), '{"i": 100}\n{"i": 101}\n');
    const col = async (split: string) => (await loadDataset(rows, { split, cacheDir })).column("i");
    assert.deepEqual(await col("train[:3]"), [0, 1, 2]);
    assert.deepEqual(await col("train[-2:]"), [8, 9]);
    // Python rounds halves to even: 2.5 -> 2, 4.5 -> 4.
    assert.deepEqual(await col("train[25%:45%]"), [2, 3]);
    assert.deepEqual(await col("train[:1]+test"), [0, 100, 101]);
    await assert.rejects(loadDataset(rows, { split: "train[oops]", cacheDir }), {
      code: "HEARTH_DATASETS_BAD_ARGUMENT",
    });
    await assert.rejects(loadDataset(rows, { split: "dev", cacheDir }), { code: "HEARTH_DATASETS_SPLIT_NOT_FOUND" });
  });

  test("the second load maps the cached Arrow file", async () => {
    const a = await loadDataset(repo, { cacheDir, split: "train" });
    const b = await loadDataset(repo, { cacheDir, split: "train" });
    assert.equal(a.cacheFiles[0].filename, b.cacheFiles[0].filename);
  });
});

describe("bad input", () => {
  const { dir, cleanup: c3 } = tempDir();
  after(c3);
  const noTmpLeft = () =>
    assert.deepEqual(
      readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).includes(".tmp-")),
      [],
    );

  test("ragged CSV names the line", async () => {
    writeFileSync(join(dir, "ragged.csv"), "a,b\n1,2\n3\n");
    await assert.rejects(loadDataset(join(dir, "ragged.csv"), { cacheDir }), (e: Error & { code: string }) => {
      assert.equal(e.code, "HEARTH_DATASETS_CSV_RAGGED");
      assert.match(e.message, /line 3: expected 2 fields/);
      return true;
    });
    noTmpLeft();
  });

  test("a JSON line that does not parse names the line", async () => {
    writeFileSync(join(dir, "bad.jsonl.gz"), gzipSync('{"a": 1}\n{"a": 2}\n{"a": \n'));
    await assert.rejects(loadDataset(join(dir, "bad.jsonl.gz"), { cacheDir }), (e: Error & { code: string }) => {
      assert.equal(e.code, "HEARTH_DATASETS_JSON_SYNTAX");
      assert.match(e.message, /line 3 does not parse/);
      return true;
    });
  });

  test("schema conflicts across files", async () => {
    mkdirSync(join(dir, "conflict"));
    writeFileSync(join(dir, "conflict", "a.jsonl"), '{"x": 1}\n');
    writeFileSync(join(dir, "conflict", "b.jsonl"), '{"x": "one"}\n');
    await assert.rejects(loadDataset(join(dir, "conflict"), { cacheDir }), { code: "HEARTH_DATASETS_SCHEMA_CONFLICT" });
    mkdirSync(join(dir, "cols"));
    writeFileSync(join(dir, "cols", "a.csv"), "x,y\n1,2\n");
    writeFileSync(join(dir, "cols", "b.csv"), "x,z\n1,2\n");
    await assert.rejects(loadDataset(join(dir, "cols"), { cacheDir }), { code: "HEARTH_DATASETS_SCHEMA_CONFLICT" });
    noTmpLeft();
  });

  test("a corrupt Parquet footer", async () => {
    const good = await import("node:fs").then((fs) => fs.readFileSync(join(PQ, "alltypes_plain.parquet")));
    const truncated = good.subarray(0, good.length - 20);
    writeFileSync(join(dir, "truncated.parquet"), truncated);
    await assert.rejects(loadDataset(join(dir, "truncated.parquet"), { cacheDir }), {
      code: "HEARTH_DATASETS_PARQUET_CORRUPT",
    });
    const garbled = Buffer.from(good);
    garbled.fill(0x7f, good.length - 200, good.length - 8);
    writeFileSync(join(dir, "garbled.parquet"), garbled);
    await assert.rejects(loadDataset(join(dir, "garbled.parquet"), { cacheDir }), {
      code: "HEARTH_DATASETS_PARQUET_CORRUPT",
    });
    noTmpLeft();
    assert.ok(!existsSync(join(dir, "garbled.arrow")));
  });
});
