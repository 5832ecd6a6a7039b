// The safetensors README example runs as written and prints what its comments say.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
// inside the repository so that "@hearth/tensor" resolves through the workspace
const dir = mkdtempSync(join(repo, "packages", "tensor", ".readme-safetensors-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("src/safetensors/README.md's example runs", () => {
  const markdown = readFileSync(join(repo, "packages", "tensor", "src", "safetensors", "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(markdown)?.[1];
  assert.ok(code, "the README has a ts example");
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], {
    cwd: repo,
    encoding: "utf8",
    env: { ...process.env, TMPDIR: dir },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split("\n"), [
    "28 { format: 'pt' }",
    "float32[1000, 64]",
    "4 shards",
    "[ 'score.weight' ] 27",
  ]);
});
