// Data parallel with real child processes: `launch` starts 2 replicas that all-reduce gradients
// through shared memory; with splitBatches they see the same global batches as one process,
// so the trained parameters equal the single-process run's to float tolerance.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadFile } from "@hearth/tensor";
import { Accelerator, LocalTransport, launch } from "../src/index.ts";
import { batches, train } from "./helpers/dp-train.ts";

test("2 processes give the parameters of 1 process with the same global batch", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-dp-"));
  try {
    let output = "";
    const res = await launch({
      script: join(import.meta.dirname, "helpers", "dp-worker.ts"),
      args: [dir],
      numProcesses: 2,
      stdio: "pipe",
      onOutput: (_r, c) => {
        output += c;
      },
    });
    assert.equal(res.code, 0, `workers failed: ${output}`);
    const dp = await loadFile(join(dir, "model.safetensors"));
    const info = JSON.parse(readFileSync(join(dir, "gathered.json"), "utf8"));
    assert.equal(info.world, 2);

    const single = await train(
      new Accelerator({ splitBatches: true, gradientAccumulationSteps: 2, transport: new LocalTransport() }),
    );
    const ref = single.model.stateDict();
    let maxDiff = 0;
    let moved = 0;
    for (const [name, t] of Object.entries(ref)) {
      const a = t.dataSync();
      const b = dp.get(name)?.dataSync();
      assert.ok(b, `missing ${name}`);
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs((a[i] as number) - (b[i] as number)));
      moved++;
    }
    assert.ok(moved > 10);
    assert.ok(maxDiff < 1e-5, `max |param difference| ${maxDiff}`);
    // gatherForMetrics put both halves of each global batch back together, in order
    const expected = batches().map((b) => [...b.narrow(1, 0, 1).contiguous().dataSync()].map(Number));
    assert.deepEqual(info.gathered, expected);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a failing worker makes launch report its exit status and stops the others", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-dp-"));
  try {
    const res = await launch({
      script: join(import.meta.dirname, "helpers", "dp-worker.ts"),
      args: [join(dir, "no", "such", "dir")],
      numProcesses: 2,
      stdio: "pipe",
    });
    assert.notEqual(res.code, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
