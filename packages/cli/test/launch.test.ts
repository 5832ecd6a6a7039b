import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";

const bin = join(import.meta.dirname, "..", "bin", "hearth.mjs");
const worker = join(import.meta.dirname, "fixtures", "launch-worker.ts");
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [bin, ...args]).then(
    () => 0,
    (e: { code: number }) => e.code,
  );

test("hearth launch --num-processes 2 runs two ranks that all-reduce through shared memory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-launch-"));
  try {
    assert.equal(await run(["launch", "--num-processes", "2", worker, dir]), 0);
    for (const r of [0, 1]) {
      assert.deepEqual(JSON.parse(readFileSync(join(dir, `rank-${r}.json`), "utf8")), { world: 2, sum: 3 });
    }
    assert.equal(await run(["launch", "-n", "2", worker, dir, "fail"]), 3);
    assert.equal(await run(["launch", "--num-processes", "zero", worker]), 2);
    assert.equal(await run(["launch"]), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
