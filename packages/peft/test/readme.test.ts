// The README's example runs as written (from the repository root, where its fixture paths point).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const dir = mkdtempSync(join(repo, "packages", "peft", ".readme-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("the README example wraps GPT-2, saves an adapter and merges Python's", () => {
  const md = readFileSync(join(repo, "packages", "peft", "README.md"), "utf8");
  const code = /```ts\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(code, "README has a ts example");
  const file = join(dir, "example.ts");
  writeFileSync(
    file,
    `${code}\nconsole.log(JSON.stringify({ shape: logits.shape, merged: merged.constructor.name }));\n`,
  );
  const r = spawnSync(process.execPath, ["--import", "tsx", file], { cwd: repo, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.match(lines[0] as string, /^trainable params: 5,632 \|\| all params: 173,824 \|\| trainable%: 3\.2401$/);
  assert.deepEqual(JSON.parse(lines.at(-1) as string), { shape: [1, 3, 1000], merged: "GPT2LMHeadModel" });
});
