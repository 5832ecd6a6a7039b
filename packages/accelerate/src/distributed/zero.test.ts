import assert from "node:assert/strict";
import { test } from "node:test";
import { Accelerator } from "../accelerator.ts";
import { LocalTransport } from "./transport.ts";
import { partitionBounds } from "./zero.ts";

test("partitionBounds cuts between parameters, as close to equal shares as they allow", () => {
  assert.deepEqual(partitionBounds([4, 4, 4, 4], 2), [0, 8, 16]);
  assert.deepEqual(partitionBounds([10, 1, 1, 1, 1], 2), [0, 10, 14]);
  assert.deepEqual(partitionBounds([3, 3, 3], 3), [0, 3, 6, 9]);
  // more ranks than parameters: some shares are empty
  assert.deepEqual(partitionBounds([5], 3), [0, 0, 5, 5]);
  assert.deepEqual(partitionBounds([], 2), [0, 0, 0]);
  const sizes = [2_097_152, 65_536, 512, 512, 786_432, 1536, 262_144, 512, 1_048_576, 2048, 1_048_576, 512];
  const b = partitionBounds(sizes, 2);
  const total = sizes.reduce((x, y) => x + y, 0);
  assert.ok(Math.abs((b[1] as number) - total / 2) <= Math.max(...sizes) / 2);
});

test("zeroStage is 0 or 1, and 1 refuses fp16 (its overflow check needs every gradient)", () => {
  const transport = new LocalTransport();
  assert.throws(() => new Accelerator({ zeroStage: 2 as never, transport }), { code: "HEARTH_ACCELERATE_ARGUMENT" });
  assert.throws(() => new Accelerator({ zeroStage: 1, mixedPrecision: "fp16", transport }), {
    code: "HEARTH_ACCELERATE_ARGUMENT",
  });
  // one process: nothing to shard, the optimiser runs whole
  assert.equal(new Accelerator({ zeroStage: 1, transport }).zeroPartition(), null);
});
