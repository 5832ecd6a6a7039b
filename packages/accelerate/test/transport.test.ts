// The shared-memory transport between real processes: all-reduce as reduce-scatter + all-gather
// gives every rank the same bits, equal to the rank-order sum; gather and broadcast move raw
// float32; the named-pipe barrier and the IPC fallback behave alike.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { launch } from "../src/index.ts";

const values = (rank: number, n: number) => Array.from({ length: n }, (_, i) => Math.fround((rank + 1) * 0.1 + i / 3));

for (const [world, barrier, io] of [
  [3, "pipes", "mapped"],
  [2, "pipes", "mapped"],
  [2, "ipc", "files"],
  [3, "pipes", "files"],
] as const) {
  test(`${world} processes, ${barrier} barrier, ${io} buffers: all-reduce, all-gather and broadcast`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-transport-"));
    try {
      let output = "";
      const res = await launch({
        script: join(import.meta.dirname, "helpers", "transport-worker.ts"),
        args: [dir],
        numProcesses: world,
        barrier,
        env: { HEARTH_SHM_IO: io },
        stdio: "pipe",
        onOutput: (_r, c) => {
          output += c;
        },
      });
      assert.equal(res.code, 0, output);
      const ranks = Array.from({ length: world }, (_, r) =>
        JSON.parse(readFileSync(join(dir, `rank-${r}.json`), "utf8")),
      );
      for (const n of [10, 1, 0, 1000]) {
        // the rank-order sum in float64, halved, rounded to float32
        const expected = Array.from({ length: n }, (_, i) => {
          let s = 0;
          for (let r = 0; r < world; r++) s += values(r, n)[i] as number;
          return Math.fround(s * 0.5);
        });
        for (const r of ranks) assert.deepEqual(r.reduced[n], expected, `length ${n}`);
        if (n === 1000) for (const r of ranks) assert.deepEqual(r.inPlace[n], expected, "in the transport's buffer");
      }
      // the grown buffer: its first 1000 elements reduce like the short one
      const inputs = Array.from({ length: world }, (_, r) => values(r, 1000));
      const first = Array.from({ length: 1000 }, (_, i) => {
        let s = 0;
        for (let r = 0; r < world; r++) s += inputs[r]?.[i] as number;
        return Math.fround(s * 0.5);
      });
      for (const r of ranks) assert.deepEqual(r.inPlace[300_000], first);
      for (const r of ranks) assert.deepEqual(r.kept, first, "an all-reduce of another array left the buffer alone");
      // reduce-scatter: each rank's own segment holds the reduced values, the rest is its input
      const ten = Array.from({ length: 10 }, (_, i) => {
        let s = 0;
        for (let r = 0; r < world; r++) s += values(r, 10)[i] as number;
        return Math.fround(s * 0.5);
      });
      const owner = (b: number[], i: number) => b.findIndex((lo, r) => i >= lo && i < (b[r + 1] as number));
      ranks.forEach((r, k) => {
        const want = Array.from({ length: 10 }, (_, i) => (owner(r.bounds, i) === k ? ten[i] : values(k, 10)[i]));
        assert.deepEqual(r.scattered, want, `rank ${k} reduce-scatter`);
        assert.deepEqual(r.scatteredInPlace, want, `rank ${k} reduce-scatter in the transport's buffer`);
        // segment all-gather: every rank ends with every owner's values
        const all = Array.from({ length: 10 }, (_, i) => owner(r.bounds, i) * 100 + i);
        assert.deepEqual(r.segments, [all, all], `rank ${k} segment all-gather`);
        // with a visitor: each peer's non-empty segment once, in rank order, at its offset
        const peers = Array.from({ length: world }, (_, q) => q).filter(
          (q) => q !== k && (r.bounds[q + 1] as number) > (r.bounds[q] as number),
        );
        assert.deepEqual(
          r.visited,
          peers.map((q) => [r.bounds[q], all.slice(r.bounds[q], r.bounds[q + 1])]),
          `rank ${k} segment all-gather to a visitor`,
        );
      });
      for (const r of ranks) {
        assert.deepEqual(
          r.gathered,
          Array.from({ length: world }, (_, k) => values(k, k + 1)),
        );
        assert.deepEqual(r.broadcast, values(world - 1, 4));
        assert.equal(r.pipes, barrier === "pipes");
        assert.equal(r.io, io);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
