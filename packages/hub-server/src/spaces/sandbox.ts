/**
 * What this machine offers to confine a Space process, detected once:
 * - a dedicated uid/gid per Space (`setpriv`, when the hub runs as root), so file modes keep it
 *   out of the hub's data folder (0700), its database, other Spaces' folders and tokens;
 * - cgroups (v2 `memory.max`/`cpu.max`, or v1 `memory.limit_in_bytes`/`cpu.cfs_quota_us`) for a
 *   hard memory cap (the kernel OOM-kills the group) and a CPU share;
 * - `prlimit` for the number of processes and open files, plus an address-space cap when no
 *   memory cgroup can be made;
 * - Node's permission model (`--experimental-permission`): file reads only inside the app folder,
 *   writes only in its `data/` folder, no child processes, no workers, no native addons;
 * - namespaces (`unshare`, as root or inside an unprivileged user namespace): a network
 *   namespace per app holding only its own loopback (`ip link set lo up`), so it reaches neither
 *   the hub's ports nor other Spaces nor the outside; the hub comes in through bridge.mjs on a
 *   Unix socket. And a mount namespace with a size-capped tmpfs over `data/` (ephemeral, as on
 *   Hugging Face), plus `RLIMIT_FSIZE` on any one file.
 * What the machine lacks is logged as a warning in each app's run log and leaves that part off.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, rmdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
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
  /** How namespaces are made: as root, or inside a user namespace mapping the hub's uid to 0. */
  unshare: "root" | "user" | undefined;
  /** A network namespace per app with only its own loopback (needs `unshare` and `ip`). */
  net: boolean;
  /** Why `net` is off. */
  netReason?: string;
  /** A mount namespace per app with a size-capped tmpfs over its `data/`. */
  mount: boolean;
  /** Why `mount` is off. */
  mountReason?: string;
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

const NS_FLAGS = ["--net", "--mount", "--propagation", "private"];

/** `unshare` arguments for a new network and mount namespace (`user`: unprivileged, in a user namespace). */
function unshareArgs(how: "root" | "user"): string[] {
  return how === "root" ? NS_FLAGS : ["--user", "--map-root-user", ...NS_FLAGS];
}

/** Tries a network and a mount namespace the way the runner will make them. */
async function probeNamespaces(): Promise<
  Pick<SandboxCaps, "unshare" | "net" | "netReason" | "mount" | "mountReason">
> {
  const off = (why: string) => ({ unshare: undefined, net: false, netReason: why, mount: false, mountReason: why });
  if (!has("unshare")) return off("unshare (util-linux) is not installed");
  // a root hub drops each app to its own uid, which a user namespace (mapping only the hub's
  // uid) cannot hold: as root, namespaces are made as root or not at all
  const how = process.getuid?.() === 0 ? "root" : "user";
  const dir = await mkdtemp(join(tmpdir(), "hearth-ns-probe-"));
  try {
    const r = spawnSync(
      "unshare",
      [
        ...unshareArgs(how),
        "--",
        "/bin/sh",
        "-c",
        `if ip link set lo up 2>&1; then echo NET; fi; if mount -t tmpfs -o size=1m hearth-probe '${dir}' 2>&1; then echo MOUNT; fi`,
      ],
      { encoding: "utf8" },
    );
    if (r.status !== 0 || r.error)
      return off(
        `unshare ${unshareArgs(how).join(" ")} failed: ${(r.stderr || r.error?.message || "").trim()} (${how === "root" ? "a container without CAP_SYS_ADMIN?" : "user namespaces not allowed?"})`,
      );
    const out = r.stdout;
    const net = /^NET$/m.test(out);
    const mount = /^MOUNT$/m.test(out);
    const why = (what: string) =>
      `${what} failed in a new namespace: ${out.replace(/^(NET|MOUNT)$/gm, "").trim() || "no reason given"}`;
    return {
      unshare: how,
      net,
      netReason: net ? undefined : has("ip") ? why("ip link set lo up") : "ip (iproute2) is not installed",
      mount,
      mountReason: mount ? undefined : why("mounting a tmpfs"),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Detects what confinement is available (cached). `mode: "none"` turns all of it off. */
export async function detectSandbox(mode: "auto" | "none" = "auto"): Promise<SandboxCaps> {
  if (mode === "none")
    return {
      uid: false,
      cgroup: undefined,
      prlimit: false,
      unshare: undefined,
      net: false,
      netReason: "sandbox: none",
      mount: false,
      mountReason: "sandbox: none",
    };
  detected ??= {
    uid: process.getuid?.() === 0 && has("setpriv"),
    cgroup: await probeCgroup(),
    prlimit: has("prlimit"),
    ...(await probeNamespaces()),
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

/** How one process is confined (see {@link confine}). */
export interface ConfineOptions {
  uid?: number;
  cgroup?: SpaceCgroup;
  memoryMb: number;
  /** No address-space cap (npm and esbuild reserve far more than they use). */
  noAddressCap?: boolean;
  /** Largest file the process may write, in MiB (`RLIMIT_FSIZE`: beyond it a write fails with EFBIG). */
  fileMb?: number;
  /** Own network namespace; the hub reaches `port` through a bridge listening on `socket`. */
  net?: { socket: string; port: number };
  /** Own mount namespace with a tmpfs of `sizeMb` over `dir`. */
  data?: { dir: string; sizeMb: number };
}

const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The argv that runs `argv` confined: a shell enters the cgroup; `unshare` makes the network and
 * mount namespaces, where a shell brings up loopback, mounts the data tmpfs and forks the bridge;
 * then (as root) `setpriv` drops to the Space's uid with no supplementary groups, no capabilities
 * and no-new-privs, `prlimit` caps processes, open files and file size, and the program runs.
 */
export function confine(caps: SandboxCaps, opts: ConfineOptions, argv: string[]): string[] {
  let cmd = [...argv];
  if (caps.prlimit) {
    const limits = ["--nproc=256", "--nofile=1024", "--core=0"];
    // without a memory cgroup the address-space cap is the only memory cap; Node 20 reserves
    // about 0.9 GiB of address space before it allocates anything (measured), hence the 1 GiB
    if (!opts.cgroup && !opts.noAddressCap) limits.push(`--as=${(opts.memoryMb + 1024) * 1024 * 1024}`);
    if (opts.fileMb) limits.push(`--fsize=${opts.fileMb * 1024 * 1024}`);
    cmd = ["prlimit", ...limits, "--", ...cmd];
  }
  const net = caps.net ? opts.net : undefined;
  const data = caps.mount ? opts.data : undefined;
  const ns = caps.unshare && (net || data);
  if (caps.uid && opts.uid !== undefined)
    cmd = ["setpriv", `--reuid=${opts.uid}`, `--regid=${opts.uid}`, "--clear-groups", "--no-new-privs", "--", ...cmd];
  else if (ns)
    // root inside a user namespace: keep the uid (the only one mapped) but give up every capability
    cmd = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--", ...cmd];
  if (ns && caps.unshare) {
    const steps: string[] = [];
    if (net) steps.push("ip link set lo up");
    if (data) {
      const owner = caps.uid && opts.uid !== undefined ? `,uid=${opts.uid},gid=${opts.uid}` : "";
      steps.push(
        `mount -t tmpfs -o size=${data.sizeMb}m,mode=0700,nosuid,nodev${owner} hearth-space-data ${shq(data.dir)}`,
      );
    }
    if (net) {
      const bridge = join(import.meta.dirname, "bridge.mjs");
      const relay = [process.execPath, bridge, net.socket, String(net.port)].map(shq).join(" ");
      steps.push(`{ ${relay} </dev/null >/dev/null 2>&1 & }`);
    }
    cmd = [
      "unshare",
      ...unshareArgs(caps.unshare),
      "--",
      "/bin/sh",
      "-c",
      `${steps.join(" && ")} && unset PWD OLDPWD && exec "$@"`,
      "sh",
      ...cmd,
    ];
  }
  if (opts.cgroup) {
    const enter = opts.cgroup.dirs.map((d) => `echo $$ > '${d}/cgroup.procs'`).join(" && ");
    cmd = ["/bin/sh", "-c", `${enter} && unset PWD OLDPWD && exec "$@"`, "sh", ...cmd];
  }
  return cmd;
}
