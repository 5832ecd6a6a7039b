// Builds the native addon during `npm install`. A failed build must not fail the install:
// the package then runs on the `js` backend and says so once when it loads.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);

function nodeGypBin() {
  // npm ships node-gyp; prefer the copy npm exposes to lifecycle scripts.
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    return require.resolve("node-gyp/bin/node-gyp.js");
  } catch {
    return join(dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  }
}

const args = [nodeGypBin(), "rebuild", "--release"];
if (!process.env.npm_config_nodedir) args.push("--nodedir=/usr");
const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  console.warn("@hearth/tensor: the native addon did not build; the js backend will be used instead.");
}
