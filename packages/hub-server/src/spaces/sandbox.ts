/**
 * What this machine offers to confine a Space process, detected once:
 * - a dedicated uid/gid per Space (`setpriv`, when the hub runs as root), so file modes keep it
 *   out of the hub's data folder (0700), its database, other Spaces' folders and tokens;
 * - cgroups (v2 `memory.max`/`cpu.max`, or v1 `memory.limit_in_bytes`/`cpu.cfs_quota_us`) for a
 *   hard memory cap (the kernel OOM-kills the group) and a CPU share;
 * - `prlimit` for the number of processes and open files, plus an address-space cap when no
 *   memory cgroup can be made;
 * - Node's permission model (`--experimental-permission`): file reads only inside the app folder,
 *   writes only in its `data/` folder, no child processes, no workers, no native addons.
 * Network is not confined (no per-Space network namespace): an app can reach loopback services.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface SandboxLimits {
  /** Memory cap in MiB. */
  memoryMb: number;
  /** CPU share in percent of one core. */
  cpuPercent: number;
}

export interface SandboxCaps {
  /** A dedicated uid per Space via setpriv (needs root). */
  uid: boolean;
  cgroup: "v2" | "v1" | undefined;
  prlimit: boolean;
}

const has = (cmd: string) => spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;

let detected: SandboxCaps | undefined;

async function probeCgroup(): Promise<SandboxCaps["cgroup"]> {
  const probe = `hearth-probe-${process.pid}`;
  for (const [kind, dir] of [
    ["v2", "/sys/fs/cgroup"],
    ["v1", "/sys/fs/cgroup/memory"],
  ] as const) {
    if (kind === "v2" && !existsSync("/sys/fs/cgroup/cgroup.controllers")) continue;
    try {
      await mkdir(join(dir, probe));
      await rmdir(join(dir, probe));
      if (kind === "v1") {
        await mkdir(join("/sys/fs/cgroup/cpu", probe));
        await rmdir(join("/sys/fs/cgroup/cpu", probe));
      }
      return kind;
    } catch {
      // not writable here
    }
  }
  return undefined;
}

/** Detects what confinement is available (cached). `mode: "none"` turns all of it off. */
export async function detectSandbox(mode: "auto" | "none" = "auto"): Promise<SandboxCaps> {
  if (mode === "none") return { uid: false, cgroup: undefined, prlimit: false };
  detected ??= {
    uid: process.getuid?.() === 0 && has("setpriv"),
    cgroup: await probeCgroup(),
    prlimit: has("prlimit"),
  };
  return detected;
}

/** A stable uid for a Space, in [base, base + 50000). */
export function uidFor(spaceId: string, base: number): number {
  return base + (Number.parseInt(createHash("sha256").update(spaceId).digest("hex").slice(0, 8), 16) % 50_000);
}

/** A cgroup for one Space; `enter` is shell text that moves the shell into it before exec. */
export interface SpaceCgroup {
  dirs: string[];
  /** Was the group OOM-killed (or did it hit its memory cap) since it was made? */
  memoryEvents(): Promise<boolean>;
  remove(): Promise<void>;
}

export async function makeCgroup(
  caps: SandboxCaps,
  name: string,
  limits: SandboxLimits,
): Promise<SpaceCgroup | undefined> {
  const bytes = String(limits.memoryMb * 1024 * 1024);
  const quota = Math.max(Math.round((limits.cpuPercent / 100) * 100_000), 1000);
  const { readFile } = await import("node:fs/promises");
  if (caps.cgroup === "v2") {
    const dir = join("/sys/fs/cgroup", name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "memory.max"), bytes).catch(() => {});
    await writeFile(join(dir, "memory.swap.max"), "0").catch(() => {});
    await writeFile(join(dir, "cpu.max"), `${quota} 100000`).catch(() => {});
    return {
      dirs: [dir],
      async memoryEvents() {
        const t = await readFile(join(dir, "memory.events"), "utf8").catch(() => "");
        return /oom_kill [1-9]|max [1-9]/.test(t);
      },
      remove: () => removeGroups([dir]),
    };
  }
  if (caps.cgroup === "v1") {
    const mem = join("/sys/fs/cgroup/memory", name);
    const cpu = join("/sys/fs/cgroup/cpu", name);
    await mkdir(mem, { recursive: true });
    await mkdir(cpu, { recursive: true });
    await writeFile(join(mem, "memory.limit_in_bytes"), bytes);
    await writeFile(join(mem, "memory.memsw.limit_in_bytes"), bytes).catch(() => {});
    await writeFile(join(cpu, "cpu.cfs_period_us"), "100000").catch(() => {});
    await writeFile(join(cpu, "cpu.cfs_quota_us"), String(quota)).catch(() => {});
    return {
      dirs: [mem, cpu],
      async memoryEvents() {
        const fail = Number((await readFile(join(mem, "memory.failcnt"), "utf8").catch(() => "0")).trim());
        const oom = await readFile(join(mem, "memory.oom_control"), "utf8").catch(() => "");
        return fail > 0 || /oom_kill [1-9]/.test(oom);
      },
      remove: () => removeGroups([mem, cpu]),
    };
  }
  return undefined;
}

async function removeGroups(dirs: string[]): Promise<void> {
  for (const d of dirs) {
    // the group can only go once its processes have exited; retry briefly
    for (let i = 0; i < 20; i++) {
      try {
        await rmdir(d);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
}

/**
 * The argv that runs `argv` confined: a shell enters the cgroup, then (as root) `setpriv` drops
 * to the Space's uid with no supplementary groups and no-new-privs, then `prlimit` caps
 * processes and files, then `exec`s the program.
 */
export function confine(
  caps: SandboxCaps,
  opts: { uid?: number; cgroup?: SpaceCgroup; memoryMb: number; noAddressCap?: boolean },
  argv: string[],
): string[] {
  let cmd = [...argv];
  if (caps.prlimit) {
    const limits = ["--nproc=256", "--nofile=1024", "--core=0"];
    // without a memory cgroup the address-space cap is the only memory cap; Node 20 reserves
    // about 0.9 GiB of address space before it allocates anything (measured), hence the 1 GiB
    if (!opts.cgroup && !opts.noAddressCap) limits.push(`--as=${(opts.memoryMb + 1024) * 1024 * 1024}`);
    cmd = ["prlimit", ...limits, "--", ...cmd];
  }
  if (caps.uid && opts.uid !== undefined)
    cmd = ["setpriv", `--reuid=${opts.uid}`, `--regid=${opts.uid}`, "--clear-groups", "--no-new-privs", "--", ...cmd];
  if (opts.cgroup) {
    const enter = opts.cgroup.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(" && ");
    cmd = ["/bin/sh", "-c", `${enter} && unset PWD OLDPWD && exec "$@"`, "sh", ...cmd];
  }
  return cmd;
}
