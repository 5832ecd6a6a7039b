// `npm test`: runs every test file that a package lists under "hearth.tests" in its
// package.json, in one `node --test` run so the runner prints a single summary.
// Extra arguments are passed to node's test runner (e.g. `npm test -- --test-name-pattern=gemm`).
// The runner's TAP goes to stdout as it comes; after it, each failed test is printed again
// (name, location, error, without the stack), so a log's tail names what failed.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

const packagesDir = join(import.meta.dirname, "..", "packages");
const files = [];
for (const name of readdirSync(packagesDir).sort()) {
  const manifest = join(packagesDir, name, "package.json");
  if (!existsSync(manifest)) continue;
  const tests = JSON.parse(readFileSync(manifest, "utf8")).hearth?.tests ?? [];
  for (const file of tests) {
    const path = join("packages", name, file);
    if (!existsSync(path)) {
      console.error(`npm test: ${manifest} lists the test file '${file}', which does not exist`);
      process.exit(2);
    }
    files.push(path);
  }
}
const args = ["--import", "tsx", "--test", "--test-concurrency=2", ...process.argv.slice(2), ...files];
const child = spawn(process.execPath, args, { stdio: ["inherit", "pipe", "inherit"] });
// Listened for from the start: the runner may close while the last lines are still being read.
const exitCode = new Promise((resolve) => child.on("close", (status) => resolve(status ?? 1)));

/** The failures' TAP blocks: a `not ok` line and its YAML diagnostics, stack left out. */
const failures = [];
let block; // the failure being read: its indent and lines
let inStack = false;
for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
  process.stdout.write(`${line}\n`);
  const notOk = /^(\s*)not ok \d+ - /.exec(line);
  if (notOk) {
    block = { indent: notOk[1].length, lines: [line.trim()] };
    inStack = false;
    continue;
  }
  if (!block) continue;
  const text = line.slice(block.indent + 2);
  if (text.trim() === "...") {
    // a suite whose only error is its failed subtests adds nothing to theirs
    if (!block.lines.some((l) => l.includes("'subtestsFailed'"))) failures.push(block.lines);
    block = undefined;
  } else if (text.trim() !== "---" && !text.startsWith("duration_ms")) {
    if (/^\S/.test(text)) inStack = text.startsWith("stack:");
    if (!inStack) block.lines.push(`  ${text}`);
  }
}
const code = await exitCode;
if (failures.length > 0) {
  console.log(`\nnpm test: ${failures.length} failed:`);
  for (const lines of failures) console.log(lines.join("\n"));
}
process.exit(code);
