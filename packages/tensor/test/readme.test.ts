// The README examples run as written (root README's "Train something", this package's first).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
// inside the repository so that "@hearth/tensor" resolves through the workspace
const dir = mkdtempSync(join(repo, "packages", "tensor", ".readme-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function firstTsBlock(markdown: string, after = ""): string {
  const start = markdown.indexOf(after);
  const m = /```ts\n([\s\S]*?)```/.exec(markdown.slice(start));
  assert.ok(m, "README has a ts example");
  return m[1] as string;
}

function run(code: string): string {
  const file = join(dir, `example-${Math.random().toString(36).slice(2)}.ts`);
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: repo, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test("the root README's training example learns y = 3x + 2", () => {
  const out = run(firstTsBlock(readFileSync(join(repo, "README.md"), "utf8"), "## Train something"));
  const [w, b] = out.trim().split(/\s+/).map(Number);
  assert.ok(Math.abs((w as number) - 3) < 1e-3 && Math.abs((b as number) - 2) < 1e-3, out);
});

test("the package README's example trains (loss goes down)", () => {
  const out = run(firstTsBlock(readFileSync(join(repo, "packages", "tensor", "README.md"), "utf8")));
  const losses = out
    .trim()
    .split("\n")
    .map((l) => Number(l.split(" ")[1]));
  assert.equal(losses.length, 4);
  assert.ok((losses[3] as number) < (losses[0] as number), out);
});
