// Builds the package's optional N-API addon (its binding.gyp) on Linux, from the package folder
// npm runs the install script in: `node ../../scripts/build-addon.mjs "<what the fallback is>"`.
// The install never fails on it: without the addon the package takes its JavaScript path, and
// the message (the argument) says which.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";

if (process.platform === "linux") {
  // node-gyp as npm hands it to lifecycle scripts, else the copy inside npm beside this node.
  const gyp =
    process.env.npm_config_node_gyp ??
    join(
      dirname(process.execPath),
      "..",
      "lib",
      "node_modules",
      "npm",
      "node_modules",
      "node-gyp",
      "bin",
      "node-gyp.js",
    );
  // Headers from the installed node (no download), unless npm was told where they are.
  const prefix = dirname(dirname(process.execPath));
  const headers =
    process.env.npm_config_nodedir || !existsSync(join(prefix, "include", "node", "node_api.h"))
      ? []
      : [`--nodedir=${prefix}`];
  const built =
    existsSync(gyp) &&
    spawnSync(process.execPath, [gyp, "rebuild", "--release", ...headers], { stdio: "inherit" }).status === 0;
  if (!built) console.warn(`@hearth/${basename(process.cwd())}: the addon did not build; ${process.argv[2]}`);
}
