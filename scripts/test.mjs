// `npm test`: runs every test file that a package lists under "hearth.tests" in its
// package.json, in one `node --test` run so the runner prints a single summary.
// Extra arguments are passed to node's test runner (e.g. `npm test -- --test-name-pattern=gemm`).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

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
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
