/**
 * Kill a training run with SIGKILL after a checkpoint, resume from the newest checkpoint, and
 * get exactly what the uninterrupted run gets: the same logged losses, final losses and
 * bit-identical parameters (weights, optimiser, scheduler, data order and dropout restored).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./train-child.ts", import.meta.url));

function run(
  outDir: string,
  extra: string[] = [],
  env: Record<string, string> = {},
): { child: ChildProcess; done: Promise<{ code: number | null; signal: string | null; stderr: string }> } {
  const child = spawn(process.execPath, ["--import", "tsx", CHILD, outDir, ...extra], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

const result = (dir: string) => JSON.parse(readFileSync(join(dir, "result.json"), "utf8"));

test("SIGKILL mid-run, resume from the last checkpoint: same losses and bit-identical weights", {
  timeout: 120_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), "hearth-resume-"));
  try {
    const a = join(root, "a");
    const b = join(root, "b");
    const full = run(a);
    const killed = run(b, [], { HEARTH_STEP_DELAY_MS: "250" });
    // wait for the checkpoint at step 6, then kill without warning
    const marker = join(b, "checkpoint-6", "trainer_state.json");
    while (!existsSync(marker)) {
      const early = await Promise.race([killed.done, new Promise((r) => setTimeout(() => r(null), 20))]);
      if (early) assert.fail(`the run ended before it could be killed: ${JSON.stringify(early)}`);
    }
    killed.child.kill("SIGKILL");
    const k = await killed.done;
    assert.equal(k.signal, "SIGKILL");
    assert.ok(!existsSync(join(b, "result.json")), "the killed run did not finish");
    // every checkpoint folder present is complete (partial ones only under a temporary name)
    for (const d of readdirSync(b).filter((n) => /^checkpoint-\d+$/.test(n))) {
      assert.ok(existsSync(join(b, d, "trainer_state.json")), `${d} is complete`);
    }
    const fa = await full.done;
    assert.equal(fa.code, 0, fa.stderr);
    const resumed = await run(b, ["resume"]).done;
    assert.equal(resumed.code, 0, resumed.stderr);
    const ra = result(a);
    const rb = result(b);
    assert.equal(rb.globalStep, 12);
    assert.equal(rb.trainingLoss, ra.trainingLoss);
    assert.equal(rb.evalLoss, ra.evalLoss);
    assert.equal(rb.params, ra.params);
    // the log history (restored from the checkpoint, then continued) has the same values
    assert.deepEqual(rb.losses, ra.losses);
    assert.ok(ra.losses.at(-1)[1] < ra.losses[0][1], `training lowers the loss: ${JSON.stringify(ra.losses)}`);
    // saveTotalLimit 2: only the two newest checkpoints remain
    assert.deepEqual(
      readdirSync(a)
        .filter((n) => n.startsWith("checkpoint-"))
        .sort(),
      ["checkpoint-12", "checkpoint-9"],
    );
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
