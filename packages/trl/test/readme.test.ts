// The README's example runs as written (from the repository root, where its fixture paths point).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const dir = mkdtempSync(join(repo, "packages", "trl", ".readme-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the README example trains a LoRA policy with DPO and logs its reward metrics", () => {
  const md = readFileSync(join(repo, "packages", "trl", "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(code, "README has a ts example");
  const file = join(dir, "example.ts");
  writeFileSync(file, code);
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: repo, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const [acc, margin] = (r.stdout.trim().split("\n").at(-1) as string).split(" ").map(Number);
  assert.equal(acc, 1);
  assert.ok((margin as number) > 0, r.stdout);
});
