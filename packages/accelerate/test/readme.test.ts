// The README's example runs as written.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";

test("the README example trains and prints a small loss", () => {
  const pkg = join(import.meta.dirname, "..");
  const md = readFileSync(join(pkg, "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(code);
  const dir = mkdtempSync(join(pkg, ".readme-"));
  try {
    const file = join(dir, "example.ts");
    writeFileSync(file, code);
    const r = spawnSync(process.execPath, ["--import", "tsx", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const loss = Number(/loss (\S+)/.exec(r.stdout)?.[1]);
    assert.ok(loss < 0.05, `final loss ${loss}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
