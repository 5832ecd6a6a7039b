import assert from "node:assert/strict";
import { test } from "node:test";
import { arange, type Tensor } from "@hearth/tensor";
import { PreparedDataLoader } from "./dataloader.ts";

const batches = (n: number, size: number): Tensor[] =>
  Array.from({ length: n }, (_, i) => arange(i * size, (i + 1) * size, 1, { dtype: "int64" }));
const ids = (t: Tensor) => [...t.dataSync()].map(Number);

test("round-robin sharding covers every batch once; a short last round is filled and flagged", () => {
  const seen: number[][] = [];
  for (const rank of [0, 1]) {
    const dl = new PreparedDataLoader(batches(5, 2), { rank, worldSize: 2 });
    const got: number[] = [];
    for (const b of dl) got.push(...ids(b));
    assert.equal(dl.endOfDataloader, true);
    assert.deepEqual(dl.duplicateRanks, [1]);
    seen.push(got);
  }
  assert.deepEqual(seen[0], [0, 1, 4, 5, 8, 9]);
  assert.deepEqual(seen[1], [2, 3, 6, 7, 0, 1]); // last batch is filler from the first round
});

test("splitBatches cuts each batch into near-equal parts in rank order", () => {
  const parts = [0, 1, 2].map((rank) =>
    [...new PreparedDataLoader(batches(2, 7), { rank, worldSize: 3, splitBatches: true })].map(ids),
  );
  assert.deepEqual(parts[0], [
    [0, 1, 2],
    [7, 8, 9],
  ]);
  assert.deepEqual(parts[1], [
    [3, 4],
    [10, 11],
  ]);
  assert.deepEqual(parts[2], [
    [5, 6],
    [12, 13],
  ]);
});

test("object batches are split key by key", () => {
  const base = [{ input: arange(0, 4, 1, { dtype: "int64" }), label: arange(10, 14, 1, { dtype: "int64" }) }];
  const [b] = [...new PreparedDataLoader(base, { rank: 1, worldSize: 2, splitBatches: true })];
  assert.deepEqual(ids(b?.input as Tensor), [2, 3]);
  assert.deepEqual(ids(b?.label as Tensor), [12, 13]);
});
