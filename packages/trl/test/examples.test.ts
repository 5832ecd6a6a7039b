// The repository's examples (examples/*.ts) run end to end with small settings: each exits
// cleanly, prints its result line and writes what it saves. Their full-size results are in the
// root README; this keeps them from rotting.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const out = mkdtempSync(join(tmpdir(), "hearth-examples-"));
after(() => rmSync(out, { recursive: true, force: true }));

/** Runs `examples/<name>.ts` with `args` plus its own `--out`; returns stdout. */
function run(name: string, args: string[]): { stdout: string; dir: string } {
  const dir = join(out, name);
  const r = spawnSync(process.execPath, ["--import", "tsx", join("examples", `${name}.ts`), ...args, "--out", dir], {
    cwd: repo,
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `${name} exited with ${r.status}:\n${r.stderr}`);
  return { stdout: r.stdout, dir };
}

test("tiny-gpt2-shakespeare trains, reports validation loss, samples and saves the model", () => {
  const small = ["--steps", "4", "--chars", "20000", "--block", "32", "--vocab", "256", "--layers", "1"];
  const { stdout, dir } = run("tiny-gpt2-shakespeare", [...small, "--embd", "64", "--batch", "4"]);
  const losses = /validation loss: (.*) \(4 steps/.exec(stdout)?.[1]?.split(" → ").map(Number);
  assert.ok(losses && losses.length >= 2 && losses.every(Number.isFinite), stdout);
  assert.ok((losses.at(-1) as number) < (losses[0] as number), `validation loss did not fall: ${losses}`);
  // each prompt's sample (words outside the trimmed vocabulary drop out of the decoded text)
  assert.equal(stdout.match(/--- sample \(".*"\) ---\n\S/g)?.length, 3, stdout);
  assert.ok(existsSync(join(dir, "final", "model.safetensors")));
});

test("lora-spam-classification reports held-out accuracy and saves a PEFT adapter", () => {
  const small = ["--pretrain-steps", "2", "--epochs", "1", "--tokens", "16"];
  const { stdout, dir } = run("lora-spam-classification", small);
  const accuracy = Number(/held-out accuracy ([\d.]+)%/.exec(stdout)?.[1]);
  assert.ok(accuracy >= 0 && accuracy <= 100, stdout);
  assert.ok(existsSync(join(dir, "adapter", "adapter_config.json")));
  assert.ok(existsSync(join(dir, "adapter", "adapter_model.safetensors")));
});

test("dpo-hh-rlhf reports held-out reward accuracy", () => {
  const { stdout } = run("dpo-hh-rlhf", ["--steps", "2", "--train", "32", "--heldout", "16"]);
  assert.match(stdout, /held-out reward accuracy over training \(16 pairs\)/);
  assert.match(stdout, /2 steps in \d+ s/);
});

test("grpo-pattern reports its training reward", () => {
  const { stdout } = run("grpo-pattern", ["--steps", "2"]);
  assert.match(stdout, /training reward \(mean of the sampled groups/);
});
