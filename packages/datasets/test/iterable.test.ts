import assert from "node:assert/strict";
import { join } from "node:path";
import { after, test } from "node:test";
import { Dataset, IterableDataset, loadDataset, toParquet } from "../src/index.ts";
import { dataPath, tempDir } from "./helpers.ts";

const { dir, cleanup } = tempDir();
after(cleanup);

test("streaming Parquet row group by row group with map/filter/take/skip/shard", async () => {
  const ds = Dataset.fromDict({ i: Array.from({ length: 1000 }, (_, k) => k) }, { cacheDir: dir });
  const file = join(dir, "rows.parquet");
  toParquet(ds, file, { rowGroupSize: 100 });
  const stream = await loadDataset(file, { split: "train", streaming: true });
  assert.ok(stream instanceof IterableDataset);
  const rows = await stream
    .map((r: { i: number }) => ({ sq: r.i * r.i }))
    .filter((r: { i: number }) => r.i % 2 === 0)
    .skip(3)
    .take(4)
    .toList();
  assert.deepEqual(
    rows.map((r) => r.i),
    [6, 8, 10, 12],
  );
  assert.deepEqual(
    rows.map((r) => r.sq),
    [36, 64, 100, 144],
  );
  const shard = await stream.shard({ numShards: 10, index: 3 }).take(3).toList();
  assert.deepEqual(
    shard.map((r) => r.i),
    [3, 13, 23],
  );
  const batched = await stream
    .map((b: { i: number[] }) => ({ j: b.i.map((x) => -x) }), { batched: true, batchSize: 64 })
    .take(2)
    .toList();
  assert.deepEqual(batched, [
    { i: 0, j: -0 },
    { i: 1, j: -1 },
  ]);
});

test("streamed rows have the same JS values as the Arrow-backed dataset", async () => {
  const file = dataPath("datasets/columnar/parquet-testing/alltypes_plain.parquet");
  const streamed = await IterableDataset.fromFiles("parquet", [file]).toList();
  const loaded = (await loadDataset(file, { split: "train", cacheDir: dir })).toList();
  assert.deepEqual(streamed, loaded);
  assert.ok(streamed[0].timestamp_col instanceof Date);
});

test("column helpers on a stream", async () => {
  const file = dataPath("datasets/columnar/parquet-testing/alltypes_plain.parquet");
  const stream = IterableDataset.fromFiles("parquet", [file]);
  const [row] = await stream.selectColumns(["id", "bool_col"]).renameColumn("bool_col", "flag").take(1).toList();
  assert.deepEqual(row, { id: 4, flag: true });
  const [dropped] = await stream.removeColumns(["timestamp_col"]).take(1).toList();
  assert.ok(!("timestamp_col" in dropped) && "id" in dropped);
  assert.notEqual(
    stream.renameColumn("id", "a").stateDict().pipeline,
    stream.renameColumn("id", "b").stateDict().pipeline,
  );
});

test("buffered shuffle is seeded and a permutation", async () => {
  const ds = Dataset.fromDict({ i: Array.from({ length: 300 }, (_, k) => k) }, { cacheDir: dir });
  const file = join(dir, "s.parquet");
  toParquet(ds, file);
  const stream = IterableDataset.fromFiles("parquet", [file]);
  const a = (await stream.shuffle({ seed: 5, bufferSize: 50 }).toList()).map((r) => r.i as number);
  const b = (await stream.shuffle({ seed: 5, bufferSize: 50 }).toList()).map((r) => r.i as number);
  assert.deepEqual(a, b);
  assert.notDeepEqual(
    a,
    [...a].sort((x, y) => x - y),
  );
  assert.deepEqual(
    [...a].sort((x, y) => x - y),
    Array.from({ length: 300 }, (_, k) => k),
  );
});

test("resumable: stateDict mid-stream, loadStateDict continues exactly", async () => {
  const file = dataPath("datasets/columnar/parquet-testing/byte_stream_split.zstd.parquet");
  const make = () =>
    IterableDataset.fromFiles("parquet", [file, file])
      .filter((r: { f32: number }) => r.f32 > 0)
      .map((b: { f64: number[] }) => ({ g: b.f64.map((x) => x * 2) }), { batched: true, batchSize: 7 });
  const full = await make().toList();
  const first = make();
  const seen: unknown[] = [];
  let state: Record<string, unknown> = {};
  for await (const row of first) {
    seen.push(row);
    if (seen.length === 123) {
      state = JSON.parse(JSON.stringify(first.stateDict()));
      break;
    }
  }
  const second = make();
  second.loadStateDict(state);
  const rest = [];
  for await (const row of second) rest.push(row);
  assert.equal(seen.length + rest.length, full.length);
  assert.deepEqual([...seen, ...rest], full);
  const other = IterableDataset.fromFiles("parquet", [file]);
  assert.throws(() => other.loadStateDict(state), { code: "HEARTH_DATASETS_STATE_MISMATCH" });
});
