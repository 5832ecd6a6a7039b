// `npm install` builds native/sendfile.c (binding.gyp) on Linux, the only platform it serves.
// The install never fails on it: without the addon the server sends file bodies through reused
// buffers (src/storage/send-file.ts), as it does with HEARTH_HUBSERVER_SENDFILE=0.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

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
  const headers = process.env.npm_config_nodedir ? [] : ["--nodedir=/usr"];
  const built =
    existsSync(gyp) &&
    spawnSync(process.execPath, [gyp, "rebuild", "--release", ...headers], {
      cwd: join(import.meta.dirname, ".."),
      stdio: "inherit",
    }).status === 0;
  if (!built)
    console.warn(
      "@hearth/hub-server: the native addons did not build; file bodies go through buffers and LFS uploads hash inline.",
    );
}
