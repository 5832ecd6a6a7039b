// The env-gated op profiler: the report's rows, and a process run with HEARTH_PROFILE=1 that
// prints the table at exit with forward, backward and js-fallback rows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { profileDispatch, profileEnd, profileReport, profileReset, profileStart, profileTotals } from "./op-profile.ts";

test("profileReport lists each op's calls and elements, slowest first", () => {
  profileReset();
  profileEnd("matmul", false, profileStart() - 5, 100);
  profileEnd("matmul", true, profileStart() - 9, 200);
  profileEnd("matmul", true, profileStart() - 9, 200);
  const lines = profileReport().split("\n");
  assert.match(lines[1] as string, /^matmul \(bwd\)\s+2\s+1[89]\.\d/);
  assert.match(lines[2] as string, /^matmul\s+1\s/);
  assert.match(lines.at(-3) as string, /^total in kernels/);
  assert.match(lines.at(-2) as string, /^all op calls \(whole dispatch\)\s+0\s/);
  profileReset();
  assert.equal(profileReport().split("\n").length, 4);
});

test("profileTotals splits whole op calls into views, kernels and allocation", () => {
  profileReset();
  profileEnd("add (allocate outputs)", true, profileStart() - 1, 0);
  profileEnd("add", true, profileStart() - 4, 10);
  profileDispatch("add", false, performance.now() - 7);
  profileDispatch("reshape", true, performance.now() - 2);
  const t = profileTotals();
  assert.equal(t.calls, 2);
  assert.equal(t.views, 1);
  assert.ok(t.dispatchMs >= 9 && t.dispatchMs < 60, String(t.dispatchMs));
  assert.ok(t.viewMs >= 2 && t.viewMs < 30, String(t.viewMs));
  assert.ok(t.kernelMs >= 4 && t.kernelMs < 30, String(t.kernelMs));
  assert.ok(t.allocateMs >= 1 && t.allocateMs < 30, String(t.allocateMs));
  assert.deepEqual([...t.kernels.keys()], ["add (bwd)"]);
  assert.deepEqual([...t.viewOps.keys()], ["reshape"]);
  assert.match(profileReport(2), /of which views \(no kernel\)\s+0\.5\s+\d/);
  assert.match(profileReport(2), /^ {4}reshape\s+0\.5\s/m);
  profileReset();
  assert.equal(profileTotals().calls, 0);
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
