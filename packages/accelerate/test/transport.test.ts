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

for (const [world, barrier] of [
  [3, "pipes"],
  [2, "pipes"],
  [2, "ipc"],
] as const) {
  test(`${world} processes, ${barrier} barrier: all-reduce, all-gather and broadcast`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-transport-"));
    try {
      let output = "";
      const res = await launch({
        script: join(import.meta.dirname, "helpers", "transport-worker.ts"),
        args: [dir],
        numProcesses: world,
        barrier,
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
      }
      for (const r of ranks) {
        assert.deepEqual(
          r.gathered,
          Array.from({ length: world }, (_, k) => values(k, k + 1)),
        );
        assert.deepEqual(r.broadcast, values(world - 1, 4));
        assert.equal(r.pipes, barrier === "pipes");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
