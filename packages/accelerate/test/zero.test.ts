// ZeRO stage 1 with real child processes: the sharded optimiser trains to the parameters of
// one process with the same global batch, each rank holds optimiser state for about half of
// the parameters, a checkpoint saved sharded holds the whole state and resumes (on 2 processes
// or on 1) exactly where training was, and a rank that dies mid-step makes the others fail
// with a clear error instead of hanging.
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { loadFile, type Tensor } from "@hearth/tensor";
import { Accelerator, LocalTransport, launch } from "../src/index.ts";
import { train } from "./helpers/dp-train.ts";

const worker = join(import.meta.dirname, "helpers", "zero-worker.ts");
let dir = "";

async function run(mode: string): Promise<{ code: number; output: string; failure?: { rank: number } }> {
  let output = "";
  const res = await launch({
    script: worker,
    args: [dir, mode],
    numProcesses: 2,
    stdio: "pipe",
    onOutput: (_r, c) => {
      output += c;
    },
  });
  return { code: res.code, output, failure: res.failure };
}

function maxDiff(a: Map<string, Tensor> | Record<string, Tensor>, b: Map<string, Tensor>): number {
  let d = 0;
  const entries = a instanceof Map ? [...a] : Object.entries(a);
  assert.ok(entries.length > 10);
  for (const [name, t] of entries) {
    const x = t.dataSync();
    const y = b.get(name)?.dataSync();
    assert.ok(y, `missing ${name}`);
    for (let i = 0; i < x.length; i++) d = Math.max(d, Math.abs((x[i] as number) - (y[i] as number)));
  }
  return d;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), "hearth-zero-"));
  const res = await run("train");
  assert.equal(res.code, 0, res.output);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test("zeroStage 1 on 2 processes gives the parameters of 1 process with the same global batch", async () => {
  const single = await train(
    new Accelerator({ splitBatches: true, gradientAccumulationSteps: 2, transport: new LocalTransport() }),
  );
  const dp = await loadFile(join(dir, "model.safetensors"));
  const d = maxDiff(single.model.stateDict(), dp);
  assert.ok(d < 1e-5, `max |param difference| ${d}`);
});

test("each rank holds optimiser state for its own share of the parameters only", () => {
  const ranks = [0, 1].map((r) => JSON.parse(readFileSync(join(dir, `state-train-${r}.json`), "utf8")));
  const sizes = ranks[0].sizes as number[];
  const total = sizes.reduce((a, b) => a + b, 0);
  const [a, b] = ranks.map((r) => r.owned as number[]) as [number[], number[]];
  assert.ok(a.length > 0 && b.length > 0);
  assert.deepEqual(
    [...a, ...b].sort((x, y) => x - y),
    sizes.map((_, i) => i),
    "the shares are disjoint and cover every parameter",
  );
  // contiguous runs, rank 0 first, balanced to within the largest parameter
  assert.ok(Math.max(...a) < Math.min(...b));
  const share = a.reduce((n, i) => n + (sizes[i] as number), 0);
  assert.ok(Math.abs(share - total / 2) <= Math.max(...sizes) / 2 + 1, `rank 0 holds ${share} of ${total}`);
});

test("a sharded checkpoint holds the whole optimiser state and resumes exactly, on 2 processes or 1", async () => {
  const nParams = (JSON.parse(readFileSync(join(dir, "state-train-0.json"), "utf8")).sizes as number[]).length;
  const buffers = await loadFile(join(dir, "ckpt", "optimizer.safetensors"));
  assert.equal([...buffers.keys()].filter((k) => k.endsWith(".momentumBuffer")).length, nParams);

  const res = await run("resume");
  assert.equal(res.code, 0, res.output);
  const full = await loadFile(join(dir, "model.safetensors"));
  const resumed = await loadFile(join(dir, "resumed.safetensors"));
  assert.equal(maxDiff(full, resumed), 0, "2 processes resumed where they saved");
  // after loading, each rank again keeps only its own share
  const owned = [0, 1].map((r) => JSON.parse(readFileSync(join(dir, `state-resume-${r}.json`), "utf8")).owned);
  assert.equal(owned[0].length + owned[1].length, nParams);

  const single = await train(
    new Accelerator({ splitBatches: true, gradientAccumulationSteps: 2, transport: new LocalTransport() }),
    { from: 2, resume: join(dir, "ckpt") },
  );
  const d = maxDiff(single.model.stateDict(), full);
  assert.ok(d < 1e-5, `1 process resumed from the sharded checkpoint: max |param difference| ${d}`);
});

test("a rank that dies mid-step makes the others fail with a clear error, not hang", async () => {
  const res = await run("die");
  assert.equal(res.code, 7);
  assert.equal(res.failure?.rank, 1);
  assert.match(
    res.output,
    /HEARTH_ACCELERATE_DISTRIBUTED|rank 0 waited in barrier \d+ for rank 1, which exited or crashed/,
  );
  assert.match(res.output, /for rank 1, which exited or crashed/);
});
