/**
 * The python3 the PyTorch peers run under: `$PYTHON` if set, else the system `/usr/bin/python3`
 * (Debian's python3-torch installs for it, and another python3 first on PATH may shadow it),
 * else `python3` — the first that can import torch and numpy; undefined when none can.
 */
import { spawnSync } from "node:child_process";

export function torchPython(): string | undefined {
  return [process.env.PYTHON, "/usr/bin/python3", "python3"].find(
    (p) => p && spawnSync(p, ["-c", "import torch, numpy"], { encoding: "utf8" }).status === 0,
  );
}
