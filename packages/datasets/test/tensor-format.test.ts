import assert from "node:assert/strict";
import { after, test } from "node:test";
import { Tensor } from "@hearth/tensor";
import { ClassLabel, Dataset } from "../src/index.ts";
import "../src/tensor.ts";
import { tempDir } from "./helpers.ts";

const { dir, cleanup } = tempDir();
after(cleanup);

test('withFormat("tensor"): int64 ids, float32 values, stacked lists, strings untouched', () => {
  const ds = Dataset.fromDict(
    {
      ids: [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
      x: [0.5, 1.5, 2.5],
      label: [0, 1, 1],
      text: ["a", "b", "c"],
      ragged: [[1], [2, 3], []],
    },
    { cacheDir: dir, features: { label: ClassLabel({ names: ["n", "p"] }) } as never },
  ).withFormat("tensor");
  const [batch] = [...ds.iter({ batchSize: 2 })] as Record<string, unknown>[];
  const ids = batch.ids as Tensor;
  assert.ok(ids instanceof Tensor);
  assert.equal(ids.dtype, "int64");
  assert.deepEqual(ids.shape, [2, 3]);
  assert.deepEqual(ids.tolistSync(), [
    [1, 2, 3],
    [4, 5, 6],
  ]);
  const x = batch.x as Tensor;
  assert.equal(x.dtype, "float32");
  assert.deepEqual(x.tolistSync(), [0.5, 1.5]);
  assert.equal((batch.label as Tensor).dtype, "int64");
  assert.deepEqual(batch.text, ["a", "b"]);
  assert.deepEqual(
    (batch.ragged as Tensor[]).map((t) => t.shape),
    [[1], [2]],
  );
  const row = ds.get(2);
  assert.deepEqual((row.x as Tensor).shape, []);
  assert.equal((row.x as Tensor).item(), 2.5);
  assert.deepEqual((row.ids as Tensor).tolistSync(), [7, 8, 9]);
  assert.equal(ds.withFormat("js").get(2).x, 2.5);
});
