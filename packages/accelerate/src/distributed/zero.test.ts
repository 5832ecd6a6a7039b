import assert from "node:assert/strict";
import { test } from "node:test";
import { matmul, noGrad, tensor } from "@hearth/tensor";
import { Accelerator } from "../accelerator.ts";
import { LocalTransport } from "./transport.ts";
import { partitionBounds, ZeroPartition } from "./zero.ts";

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

test("gathering parameters written in place invalidates what was cached from their old values", async () => {
  // Rank 0 of a 2-rank world: `broadcast` from root 1 delivers the peer's share, and the
  // gather writes it straight into the parameter. A product under noGrad made before it (which
  // pre-packs the weight) must not be reused afterwards. The new values keep the old ones at
  // the positions the packing cache samples (row s, column s·7919 mod N), so only the storage
  // version tells the packing is stale.
  const K = 32;
  const N = 48;
  const old = Float32Array.from({ length: K * N }, (_, i) => (i % 7) - 3);
  const incoming = Float32Array.from(old, (v) => v + 1);
  for (let s = 0; s < K; s++) incoming[s * N + ((s * 7919) % N)] = old[s * N + ((s * 7919) % N)] as number;
  const mine = tensor([1, 2]);
  const theirs = tensor(Array.from(old)).reshape([K, N]);
  const transport = Object.assign(new LocalTransport(), {
    worldSize: 2,
    async broadcast(data: Float32Array, root = 0) {
      if (root === 1) data.set(incoming);
    },
  });
  const zero = new ZeroPartition([mine, theirs], transport);
  assert.equal(zero.first, 0);
  const x = tensor(Array.from({ length: 64 * K }, (_, i) => ((i * 13) % 11) / 10)).reshape([64, K]);
  const before = noGrad(() => matmul(x, theirs).dataSync());
  await zero.gatherParameters();
  const got = noGrad(() => matmul(x, theirs).dataSync());
  const want = noGrad(() => matmul(x, tensor(Array.from(incoming)).reshape([K, N])).dataSync());
  assert.deepEqual(got, want);
  assert.notDeepEqual(got, before);
});
