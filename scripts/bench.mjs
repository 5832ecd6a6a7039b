// `npm run bench -- <name> [args...]` runs bench/<name>.ts; with no name it lists them.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const benchDir = join(import.meta.dirname, "..", "bench");
const [name, ...rest] = process.argv.slice(2);
const available = existsSync(benchDir)
  ? readdirSync(benchDir)
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.slice(0, -3))
  : [];
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>; available: ${available.join(", ") || "none yet"}`);
  process.exit(name ? 2 : 0);
}
const result = spawnSync(process.execPath, ["--import", "tsx", join(benchDir, `${name}.ts`), ...rest], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
