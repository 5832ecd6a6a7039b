/**
 * One rank of the transport test: all-reduces buffers of a few lengths (uneven chunks, a chunk
 * of nothing, an empty buffer), checks that another all-reduce leaves the transport's buffer
 * alone, reduce-scatters and all-gathers segments (into the buffer and to a visitor), gathers and
 * broadcasts, and writes what it got as JSON:
 * `transport-worker.ts <out-dir>`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultTransport, type ShmTransport } from "../../src/index.ts";

const out = process.argv[2] as string;
const t = defaultTransport();
const values = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.fround((t.rank + 1) * 0.1 + i / 3));
const reduced: Record<number, number[]> = {};
for (const n of [10, 1, 0, 1000]) {
  const data = values(n);
  await t.allReduceSum(data, 0.5);
  reduced[n] = [...data];
}
// in the transport's own buffer (no copy in or out), twice, the second longer (it grows)
const inPlace: Record<number, number[]> = {};
for (const n of [1000, 300_000]) {
  const buf = (t as ShmTransport).allReduceBuffer(n);
  buf.set(values(n));
  await t.allReduceSum(buf, 0.5);
  inPlace[n] = [...buf.subarray(0, 1000)];
}
// an all-reduce of another array leaves what the buffer holds alone (the Accelerator keeps the
// averaged gradients there)
await t.allReduceSum(new Float32Array(10).fill(7), 0.5);
const kept = [...(t as ShmTransport).allReduceBuffer(300_000).subarray(0, 1000)];
// reduce-scatter over uneven segments (with 3 ranks, rank 1's is empty), in a plain array and
// in the transport's buffer; then an in-place segment all-gather
const bounds = t.worldSize === 2 ? [0, 7, 10] : [0, 4, 4, 10];
const scattered = values(10);
await t.reduceScatterSum?.(scattered, bounds, 0.5);
const own = (t as ShmTransport).allReduceBuffer(10);
own.set(values(10));
await t.reduceScatterSum?.(own, bounds, 0.5);
const scatteredInPlace = [...own.subarray(0, 10)];
const segs = (t as ShmTransport).gatherBuffer(10).fill(-1);
for (let i = bounds[t.rank] as number; i < (bounds[t.rank + 1] as number); i++) segs[i] = t.rank * 100 + i;
await t.allGatherSegments?.(segs, bounds);
const plainSegs = new Float32Array(10).fill(-1);
for (let i = bounds[t.rank] as number; i < (bounds[t.rank + 1] as number); i++) plainSegs[i] = t.rank * 100 + i;
await t.allGatherSegments?.(plainSegs, bounds);
// the same handing each peer's segment to a visitor
const visitSegs = new Float32Array(10).fill(-1);
for (let i = bounds[t.rank] as number; i < (bounds[t.rank + 1] as number); i++) visitSegs[i] = t.rank * 100 + i;
const visited: [number, number[]][] = [];
await t.allGatherSegments?.(visitSegs, bounds, (v, at) => visited.push([at, [...v]]));
const gathered = (await t.allGather(values(t.rank + 1))).map((a) => [...a]);
const b = values(4);
await t.broadcast(b, t.worldSize - 1);
writeFileSync(
  join(out, `rank-${t.rank}.json`),
  JSON.stringify({
    reduced,
    inPlace,
    kept,
    bounds,
    visited,
    scattered: [...scattered],
    scatteredInPlace,
    segments: [[...segs.subarray(0, 10)], [...plainSegs]],
    gathered,
    broadcast: [...b],
    pipes: (t as ShmTransport).usesPipes,
    io: (t as ShmTransport).io,
  }),
);
await t.barrier();
await t.close();
