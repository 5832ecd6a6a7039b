// The env-gated op profiler: the report's rows, and a process run with HEARTH_PROFILE=1 that
// prints the table at exit with forward, backward and js-fallback rows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { profileEnd, profileReport, profileReset, profileStart } from "./op-profile.ts";

test("profileReport lists each op's calls and elements, slowest first", () => {
  profileReset();
  profileEnd("matmul", false, profileStart() - 5, 100);
  profileEnd("matmul", true, profileStart() - 9, 200);
  profileEnd("matmul", true, profileStart() - 9, 200);
  const lines = profileReport().split("\n");
  assert.match(lines[1] as string, /^matmul \(bwd\)\s+2\s+1[89]\.\d/);
  assert.match(lines[2] as string, /^matmul\s+1\s/);
  assert.match(lines.at(-1) as string, /^total in kernels/);
  profileReset();
  assert.equal(profileReport().split("\n").length, 2);
});

test("HEARTH_PROFILE=1 prints the table at exit, marking backward rows", () => {
  const index = fileURLToPath(new URL("../index.ts", import.meta.url));
  const script = `import { randn, mul } from ${JSON.stringify(index)};
const x = randn([3, 4]).requiresGrad_();
mul(x, x).sum().backward();`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    env: { ...process.env, HEARTH_PROFILE: "1" },
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^mul\s+1\s/m);
  assert.match(r.stderr, /^mul \(bwd\)\s+2\s/m);
  assert.match(r.stderr, /total in kernels/);
});
