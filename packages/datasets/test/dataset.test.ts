import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { after, describe, test } from "node:test";
import { ClassLabel, concatenateDatasets, Dataset, Value } from "../src/index.ts";
import { tempDir } from "./helpers.ts";

const { dir: cacheDir, cleanup } = tempDir();
after(cleanup);

const make = () =>
  Dataset.fromDict(
    {
      text: ["a", "bb", "ccc", "dddd", "eeeee", "ffffff"],
      label: [0, 1, 0, 1, 0, 1],
      meta: [{ k: 1 }, { k: 2 }, { k: 3 }, { k: 4 }, { k: 5 }, { k: 6 }],
    },
    { cacheDir },
  );

describe("Dataset", () => {
  test("rows, columns, features", () => {
    const ds = make();
    assert.deepEqual(ds.shape, [6, 3]);
    assert.deepEqual(ds.features.label, Value("int64"));
    assert.deepEqual(ds.get(-1), { text: "ffffff", label: 1, meta: { k: 6 } });
    assert.throws(() => ds.get(6), { code: "HEARTH_DATASETS_INDEX_OUT_OF_RANGE" });
    assert.deepEqual([...ds].length, 6);
    assert.deepEqual(ds.withFormat("js", ["label"]).get(1), { label: 1 });
  });

  test("map: rows, batched, withIndices, removeColumns, and reuse from cache", async () => {
    const ds = make();
    let calls = 0;
    const fn = (row: { text: string }) => {
      calls++;
      return { n: row.text.length };
    };
    const a = await ds.map(fn);
    assert.deepEqual(a.column("n"), [1, 2, 3, 4, 5, 6]);
    assert.equal(calls, 6);
    const again = await ds.map(fn);
    assert.equal(calls, 6, "second run is served from the cache file");
    assert.equal(again.cacheFiles[0].filename, a.cacheFiles[0].filename);
    await ds.map(fn, { loadFromCacheFile: false });
    assert.equal(calls, 12, "loadFromCacheFile: false recomputes");

    const b = await ds.map(
      (batch: { label: number[] }, idx: number[]) => ({ twice: batch.label.map((l, i) => l * 2 + idx[i] * 10) }),
      {
        batched: true,
        batchSize: 4,
        withIndices: true,
        removeColumns: ["meta"],
      },
    );
    assert.deepEqual(b.columnNames, ["text", "label", "twice"]);
    // A returned column replaces its input in place (Python's dict update); removed-then-returned goes last.
    const replaced = await ds.map((r: { text: string }) => ({ text: r.text.toUpperCase(), meta: 1 }), {
      removeColumns: "meta",
    });
    assert.deepEqual(replaced.columnNames, ["text", "label", "meta"]);
    assert.deepEqual(replaced.get(0), { text: "A", label: 0, meta: 1 });
    assert.deepEqual(b.column("twice"), [0, 12, 20, 32, 40, 52]);
    // Batched maps may change the row count when the inputs are removed.
    const c = await ds.map((batch: { text: string[] }) => ({ ch: batch.text.flatMap((t) => t.split("")) }), {
      batched: true,
      removeColumns: ["text", "label", "meta"],
    });
    assert.equal(c.numRows, 21);
  });

  test("map keeps ClassLabel and float types; numProc uses worker shards", async () => {
    const ds = make().castColumn("label", ClassLabel({ names: ["neg", "pos"] }));
    const m = await ds.map((r: { label: number }) => ({ label: 1 - r.label }));
    assert.deepEqual(m.features.label, ClassLabel({ names: ["neg", "pos"] }));
    const p = await ds.map((b: { text: string[] }) => ({ up: b.text.map((t) => t.toUpperCase()) }), {
      batched: true,
      batchSize: 2,
      numProc: 2,
    });
    assert.equal(p.cacheFiles.length, 2);
    assert.match(p.cacheFiles[0].filename, /_00000_of_00002\.arrow$/);
    assert.deepEqual(p.column("up"), ["A", "BB", "CCC", "DDDD", "EEEEE", "FFFFFF"]);
    const outside = 2;
    await assert.rejects(
      ds.map((r: { label: number }) => ({ y: r.label * outside }), { numProc: 2 }),
      (e: Error & { code: string }) => e.code === "HEARTH_DATASETS_MAP_FAILED" && /surrounding scope/.test(e.message),
    );
    const f = await ds.filter((r: { text: string }) => r.text.length % 2 === 0, { numProc: 2 });
    assert.deepEqual(f.column("text"), ["bb", "dddd", "ffffff"]);
  });

  test("batched inputs convert lazily; a column first read after its batch is gone is an error", async () => {
    const ds = make();
    let first: Record<string, unknown> | null = null;
    const out = await ds.map(
      (b: Record<string, unknown>) => {
        first ??= b;
        return { n: (b.label as number[]).map((l) => l + 1) };
      },
      { batched: true, batchSize: 2, loadFromCacheFile: false },
    );
    assert.deepEqual(out.column("n"), [1, 2, 1, 2, 1, 2]);
    assert.deepEqual(out.column("text"), ds.column("text"), "passthrough columns are copied from Arrow data");
    assert.throws(() => (first as Record<string, unknown>).text, { code: "HEARTH_DATASETS_BAD_ARGUMENT" });
  });

  test("a function that throws leaves no cache file behind", async () => {
    const ds = make();
    const before = readdirSync(cacheDir).length;
    await assert.rejects(
      ds.map(
        (r: { label: number }) => {
          if (r.label === 1) throw new Error("boom");
          return { x: 1 };
        },
        { batched: false },
      ),
      { code: "HEARTH_DATASETS_MAP_FAILED" },
    );
    assert.equal(readdirSync(cacheDir).length, before);
    assert.deepEqual(
      readdirSync(cacheDir).filter((f) => f.includes(".tmp-")),
      [],
    );
  });

  test("filter, select, shuffle (seeded), sort, shard, take/skip", async () => {
    const ds = make();
    const even = await ds.filter((r: { label: number }) => r.label === 0);
    assert.deepEqual(even.column("text"), ["a", "ccc", "eeeee"]);
    const batched = await ds.filter((b: { label: Int32Array }) => Array.from(b.label, (l) => l === 1), {
      batched: true,
    });
    assert.deepEqual(batched.column("text"), ["bb", "dddd", "ffffff"]);
    assert.deepEqual(ds.select([5, 0, 5]).column("text"), ["ffffff", "a", "ffffff"]);
    const s1 = ds.shuffle({ seed: 42 }).column("text");
    const s2 = ds.shuffle({ seed: 42 }).column("text");
    const s3 = ds.shuffle({ seed: 7 }).column("text");
    assert.deepEqual(s1, s2);
    assert.notDeepEqual(s1, s3);
    assert.deepEqual([...(s1 as string[])].sort(), ds.column("text"));
    assert.deepEqual(ds.sort("text", { reverse: true }).column("text"), ["ffffff", "eeeee", "dddd", "ccc", "bb", "a"]);
    assert.deepEqual(ds.sort(["label", "text"]).column("text"), ["a", "ccc", "eeeee", "bb", "dddd", "ffffff"]);
    assert.deepEqual(ds.shard({ numShards: 4, index: 0 }).column("text"), ["a", "bb"]);
    assert.deepEqual(ds.shard({ numShards: 4, index: 3 }).column("text"), ["ffffff"]);
    assert.deepEqual(ds.shard({ numShards: 2, index: 1, contiguous: false }).column("text"), ["bb", "dddd", "ffffff"]);
    assert.deepEqual(ds.skip(4).take(1).column("text"), ["eeeee"]);
    // Selecting from a shuffled, filtered dataset composes the index mappings.
    const sel = even.shuffle({ seed: 1 }).select([0]);
    assert.ok(["a", "ccc", "eeeee"].includes(sel.get(0).text as string));
  });

  test("trainTestSplit: sizes as Python rounds them, stratified shares", () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 80 ? 0 : 1));
    const ds = Dataset.fromDict({ x: labels.map((_, i) => i), label: labels }, { cacheDir });
    const { train, test } = ds.trainTestSplit({ testSize: 0.25, seed: 3, stratifyByColumn: "label" });
    assert.equal(test.numRows, 25);
    assert.equal(train.numRows, 75);
    const testOnes = (test.column("label") as number[]).filter((l) => l === 1).length;
    assert.equal(testOnes, 5);
    const all = new Set([...(train.column("x") as number[]), ...(test.column("x") as number[])]);
    assert.equal(all.size, 100);
    const plain = ds.trainTestSplit({ testSize: 0.1, shuffle: false });
    assert.deepEqual(plain.test.column("x"), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("columns: add, remove, rename, cast, flatten, unique, concatenate", () => {
    const ds = make();
    assert.deepEqual(ds.addColumn("id", [1, 2, 3, 4, 5, 6]).column("id"), [1, 2, 3, 4, 5, 6]);
    assert.throws(() => ds.addColumn("text", [1, 2, 3, 4, 5, 6]), { code: "HEARTH_DATASETS_COLUMN_EXISTS" });
    assert.deepEqual(ds.removeColumns(["meta", "label"]).columnNames, ["text"]);
    assert.throws(() => ds.removeColumns("nope"), { code: "HEARTH_DATASETS_COLUMN_NOT_FOUND" });
    assert.deepEqual(ds.renameColumn("text", "t").columnNames, ["t", "label", "meta"]);
    assert.deepEqual(ds.castColumn("label", Value("float32")).features.label, Value("float32"));
    const named = Dataset.fromDict({ y: ["neg", "pos", "neg"] }, { cacheDir }).castColumn(
      "y",
      ClassLabel({ names: ["neg", "pos"] }),
    );
    assert.deepEqual(named.column("y"), [0, 1, 0]);
    assert.throws(
      () => Dataset.fromDict({ y: ["maybe"] }, { cacheDir }).castColumn("y", ClassLabel({ names: ["neg"] })),
      { code: "HEARTH_DATASETS_CAST_FAILED" },
    );
    assert.deepEqual(ds.flatten().columnNames, ["text", "label", "meta.k"]);
    const encoded = Dataset.fromDict({ party: ["r", "d", "r", "w"] }, { cacheDir }).classEncodeColumn("party");
    assert.deepEqual(encoded.features.party, ClassLabel({ names: ["d", "r", "w"] }));
    assert.deepEqual(encoded.column("party"), [1, 0, 1, 2]);
    assert.deepEqual(ds.unique("label"), [0, 1]);
    const both = concatenateDatasets([ds, ds.shuffle({ seed: 2 }).select([0])]);
    assert.equal(both.numRows, 7);
    assert.throws(() => concatenateDatasets([ds, ds.removeColumns("meta")]), {
      code: "HEARTH_DATASETS_SCHEMA_CONFLICT",
    });
  });

  test("a mapped file opens without reading its rows", () => {
    const ds = make();
    const file = ds.cacheFiles[0].filename;
    assert.ok(existsSync(file) && statSync(file).size > 0);
    const reopened = Dataset.fromArrowFiles([file]);
    assert.deepEqual(reopened.features, ds.features);
    assert.equal(reopened.numRows, 6);
  });
});

test("Python's legacy Sequence of a dict reads as a struct of lists, as Python stores it", async () => {
  const { featuresFromJson, List, Value } = await import("../src/index.ts");
  const f = featuresFromJson({
    answers: {
      feature: { text: { dtype: "string", _type: "Value" }, start: { dtype: "int32", _type: "Value" } },
      _type: "Sequence",
    },
  });
  assert.deepEqual(f, { answers: { text: List(Value("string")), start: List(Value("int32")) } });
});

test("fromGenerator: sync or async rows, late-typed columns, cached by the generator's source", async () => {
  const { dir: genDir, cleanup: genCleanup } = tempDir();
  try {
    const ds = await Dataset.fromGenerator(
      function* (kw) {
        for (let i = 0; i < (kw.n as number); i++) yield { i, note: i < 1500 ? null : `n${i}` };
      },
      { cacheDir: genDir, genKwargs: { n: 2000 } },
    );
    assert.equal(ds.numRows, 2000);
    assert.deepEqual(ds.features, { i: Value("int64"), note: Value("string") });
    assert.deepEqual(ds.get(1999), { i: 1999, note: "n1999" });
    assert.equal(ds.get(0).note, null);
    const again = await Dataset.fromGenerator(
      function* (kw) {
        for (let i = 0; i < (kw.n as number); i++) yield { i, note: i < 1500 ? null : `n${i}` };
      },
      { cacheDir: genDir, genKwargs: { n: 2000 } },
    );
    assert.equal(again.cacheFiles[0].filename, ds.cacheFiles[0].filename);
    const fromAsync = await Dataset.fromGenerator(
      async function* () {
        yield { a: 1 };
        yield { a: 2, b: true };
      },
      { cacheDir: genDir },
    );
    assert.deepEqual(fromAsync.toList(), [
      { a: 1, b: null },
      { a: 2, b: true },
    ]);
  } finally {
    genCleanup();
  }
});

test("scans of files whose record batches are larger than the read buffers return every value", async () => {
  const { writeColumnsFile } = await import("../src/dataset/storage.ts");
  const { dir: scanDir, cleanup: scanCleanup } = tempDir();
  try {
    const path = `${scanDir}/big-batches.arrow`;
    const n = 400_000;
    writeColumnsFile(path, { v: Value("float64") }, "scan-test", function* () {
      // Two messages of 1.6 MB and one small one.
      for (const [s, e] of [
        [0, 200_000],
        [200_000, 399_000],
        [399_000, n],
      ]) {
        yield { columns: { v: Float64Array.from({ length: e - s }, (_, i) => s + i) }, length: e - s };
      }
    });
    const ds = Dataset.fromArrowFiles([path]);
    let sum = 0;
    let count = 0;
    for (const b of ds.withFormat("typed").iter({ batchSize: 999 })) {
      const v = (b as Record<string, Float64Array>).v;
      for (let i = 0; i < v.length; i++) {
        assert.equal(v[i], count);
        sum += v[i];
        count++;
      }
    }
    assert.equal(count, n);
    assert.equal(sum, (n * (n - 1)) / 2);
  } finally {
    scanCleanup();
  }
});
