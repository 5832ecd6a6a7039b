/**
 * The Space runtime: one {@link SpaceRuntime} per Space repo. It reads the README config at the
 * head of `main`, builds node apps on each new commit, runs them confined (sandbox.ts), restarts
 * them after a crash with exponential backoff, puts them to sleep when idle and wakes them on
 * the next request. Static Spaces need no process: their stage follows the config alone.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rm } from "node:fs/promises";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import type { HubDatabase, RepoRow } from "../db/types.ts";
import type { RepoService } from "../repos/service.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { type BuildContext, buildNodeApp } from "./builder.ts";
import { parseSpaceConfig, type SpaceConfig } from "./config.ts";
import { lineWriter, SpaceLog } from "./logs.ts";
import { confine, detectSandbox, makeCgroup, type SandboxCaps, type SpaceCgroup, uidFor } from "./sandbox.ts";
import { SpaceSettingsStore } from "./settings-store.ts";

export type SpaceStage =
  | "NO_APP_FILE"
  | "CONFIG_ERROR"
  | "BUILDING"
  | "BUILD_ERROR"
  | "APP_STARTING"
  | "RUNNING"
  | "RUNNING_BUILDING"
  | "RUNTIME_ERROR"
  | "SLEEPING"
  | "PAUSED"
  | "STOPPED";

export interface SpacesOptions {
  /** Working copies and builds live here (not inside the data folder, which stays 0700). Default `<data>-spaces`. */
  runDir?: string;
  /** Memory cap per app in MiB (default 512). */
  memoryMb?: number;
  /**
   * Disk cap per app in MiB (default 1024): the size of its `data/` folder (a tmpfs, counted in
   * its memory too, wiped on restart) and of any one file it writes.
   */
  diskMb?: number;
  /** CPU share per app, percent of one core (default 50). */
  cpuPercent?: number;
  /** A running app with no request for this long is stopped (default 30 min). */
  idleMs?: number;
  /** How long an app may take to open its port (default 60 s). */
  startTimeoutMs?: number;
  /** Longest build step (default 10 min). */
  buildTimeoutMs?: number;
  /** First crash-restart delay, doubled each crash up to `maxBackoffMs` (default 1 s / 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** `auto` (default): use what the machine offers; `none`: plain child processes (tests without root). */
  sandbox?: "auto" | "none";
  /** First uid handed to Spaces (default 200000). */
  uidBase?: number;
  /** Extra `npm install` arguments for dependencies the workspace cannot serve (e.g. `["--offline"]`). */
  npmArgs?: string[];
  /** Workspace root whose `packages/*` (and installed `node_modules`) serve app dependencies offline. Default: this repository. */
  workspace?: string;
  /**
   * Per-Space origin: with `"spaces.example.org"` a Space is also served at
   * `<ns>--<name>.spaces.example.org` (so it cannot read the hub's cookies).
   */
  originDomain?: string;
}

/** Where the proxy reaches a running app: its port, through a Unix socket when it has its own network namespace. */
export interface AppTarget {
  port: number;
  socketPath?: string;
}

export interface RuntimeInfo {
  stage: SpaceStage;
  sdk: string | undefined;
  hardware: { current: string | null; requested: string | null };
  storage: null;
  gcTimeout: number;
  replicas: { current: number; requested: number };
  errorMessage?: string;
  /** Commit the running (or last built) app was built from. */
  sha?: string;
  restarts: number;
}

interface Resolved {
  commit: string;
  config?: SpaceConfig;
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Kills what is left of an app's process group: the bridge outlives the app by up to 200 ms.
 * (While the bridge lives the group id cannot be reused; once it is gone the kill finds nothing.)
 */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-(child.pid as number), "SIGKILL");
  } catch {
    // gone already
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function reachable(t: AppTarget): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = t.socketPath ? connect(t.socketPath) : connect(t.port, "127.0.0.1");
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });
}

export class SpaceRuntime {
  stage: SpaceStage = "STOPPED";
  errorMessage: string | undefined;
  config: SpaceConfig | undefined;
  /** Commit of the current build. */
  sha: string | undefined;
  /** The app's port (inside its own network namespace when it has one). */
  port: number | undefined;
  /** The bridge's Unix socket into the app's network namespace. */
  socketPath: string | undefined;
  restarts = 0;
  readonly buildLog = new SpaceLog();
  readonly runLog = new SpaceLog();
  lastRequest = Date.now();
  private child: ChildProcess | undefined;
  private cgroup: SpaceCgroup | undefined;
  private entry: string | undefined;
  private buildDir: string | undefined;
  private crashes = 0;
  private startedAt = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private updating: Promise<void> = Promise.resolve();
  private restarting: Promise<void> = Promise.resolve();
  private stopping = false;
  private closed = false;

  constructor(
    readonly manager: SpaceManager,
    public repo: RepoRow,
  ) {}

  /** The repo id as a file and cgroup name (ids from another database may hold any character). */
  get key(): string {
    return this.repo.id.replace(/[^A-Za-z0-9_-]/g, "_");
  }

  get dir(): string {
    return join(this.manager.runDir, this.key);
  }

  info(): RuntimeInfo {
    return {
      stage: this.stage,
      sdk: this.config?.sdk,
      hardware: { current: this.config?.sdk === "node" ? "cpu-basic" : null, requested: "cpu-basic" },
      storage: null,
      gcTimeout: Math.round(this.manager.opts.idleMs / 1000),
      replicas: { current: this.child ? 1 : 0, requested: 1 },
      ...(this.errorMessage ? { errorMessage: this.errorMessage } : {}),
      sha: this.sha,
      restarts: this.restarts,
    };
  }

  /** Re-reads the config at main; rebuilds and restarts node apps when the commit changed. */
  update(force = false): Promise<void> {
    this.updating = this.updating
      .then(() => this.doUpdate(force))
      .catch((e: Error) => {
        this.buildLog.write(`update failed: ${e.message}\n`);
        if (!this.child) {
          this.stage = "BUILD_ERROR";
          this.errorMessage = `update failed: ${this.buildLog.scrub(e.message)}`;
        }
      });
    return this.updating;
  }

  private async doUpdate(force: boolean): Promise<void> {
    if (this.closed) return;
    const res = await this.manager.resolve(this.repo);
    if (!res) {
      await this.stop("STOPPED");
      this.stage = "NO_APP_FILE";
      this.config = undefined;
      return;
    }
    this.config = res.config;
    if (res.error || !res.config) {
      await this.stop("STOPPED");
      this.stage = res.error?.includes("app_file") ? "NO_APP_FILE" : "CONFIG_ERROR";
      this.errorMessage = res.error;
      this.sha = res.commit;
      return;
    }
    if (res.config.sdk === "static") {
      await this.stop("STOPPED");
      this.stage = "RUNNING";
      this.errorMessage = undefined;
      this.sha = res.commit;
      return;
    }
    if (!force && this.sha === res.commit && this.entry && this.stage !== "BUILD_ERROR") return;
    await this.build(res.commit, res.config);
  }

  private async build(commit: string, config: SpaceConfig): Promise<void> {
    const wasRunning = !!this.child;
    this.stage = wasRunning ? "RUNNING_BUILDING" : "BUILDING";
    this.errorMessage = undefined;
    this.buildLog.clear();
    const { secretValues } = await this.manager.settings.env(this.repo.id);
    this.buildLog.setSecrets(secretValues);
    const buildDir = join(this.dir, `${commit.slice(0, 12)}-${Date.now().toString(36)}`);
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const caps = this.manager.caps;
    const uid = caps.uid ? uidFor(this.repo.id, this.manager.opts.uidBase) : undefined;
    if (uid !== undefined) {
      const { chown } = await import("node:fs/promises");
      await chown(this.dir, uid, uid);
    }
    const cgroup = await this.ensureCgroup();
    const ctx: BuildContext = {
      repos: this.manager.repos,
      blobs: this.manager.blobs,
      caps,
      uid,
      cgroup,
      memoryMb: this.manager.opts.memoryMb,
      workspace: this.manager.opts.workspace,
      log: this.buildLog,
      npmEnv: this.manager.npmEnv(),
      npmArgs: this.manager.opts.npmArgs,
      buildTimeoutMs: this.manager.opts.buildTimeoutMs,
    };
    this.buildLog.write(`build of ${commit} started (sdk: node, app_file: ${config.appFile})\n`);
    try {
      const entry = await buildNodeApp(ctx, this.repo, commit, config.appFile, buildDir);
      this.buildLog.write("build succeeded\n");
      const old = this.buildDir;
      await this.stop("STOPPED");
      this.entry = entry;
      this.buildDir = buildDir;
      this.sha = commit;
      this.crashes = 0;
      if (old) await rm(old, { recursive: true, force: true });
      await this.start();
    } catch (e) {
      this.buildLog.write(`build failed: ${(e as Error).message}\n`);
      await rm(buildDir, { recursive: true, force: true });
      if (this.child) {
        // the previous version keeps serving
        this.stage = "RUNNING";
      } else {
        this.stage = "BUILD_ERROR";
        this.sha = commit;
      }
      this.errorMessage = `build failed: ${this.buildLog.scrub((e as Error).message)}`;
    }
  }

  private async ensureCgroup(): Promise<SpaceCgroup | undefined> {
    if (this.cgroup || !this.manager.caps.cgroup) return this.cgroup;
    try {
      this.cgroup = await makeCgroup(this.manager.caps, `hearth-space-${this.key}`, {
        memoryMb: this.manager.opts.memoryMb,
        cpuPercent: this.manager.opts.cpuPercent,
      });
    } catch (e) {
      this.buildLog.write(`note: no cgroup for this Space (${(e as Error).message}); memory is capped by prlimit\n`);
    }
    return this.cgroup;
  }

  /** Starts the built app (if not running) and waits for its port. */
  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.child || this.closed) return;
    if (!this.entry || !this.buildDir || !this.config) {
      await this.update(true);
      return;
    }
    const m = this.manager;
    this.stage = "APP_STARTING";
    // in its own network namespace the app may have any port: app_port, else Hugging Face's 7860
    const isolated = m.caps.net;
    const port = this.config.appPort ?? (isolated ? 7860 : await freePort());
    if (!isolated && this.config.appPort && (await reachable({ port }))) {
      this.errorMessage = `app_port ${port} is already in use on this host`;
      this.runLog.write(`${this.errorMessage}\n`);
      this.stage = "RUNTIME_ERROR";
      return;
    }
    const socketPath = isolated ? join(m.socketDir, `${this.key}-${randomBytes(8).toString("hex")}.sock`) : undefined;
    const target: AppTarget = { port, socketPath };
    const { env: extra, secretValues } = await m.settings.env(this.repo.id);
    this.runLog.setSecrets(secretValues);
    const appDir = join(this.buildDir, "app");
    const env: Record<string, string> = {
      ...extra,
      PATH: "/usr/local/bin:/usr/bin:/bin",
      HOME: join(this.buildDir, "home"),
      PORT: String(port),
      HOST: "127.0.0.1",
      NODE_ENV: "production",
      HEARTH_BACKEND: "js",
      SPACE_ID: `${this.repo.namespace}/${this.repo.name}`,
      SPACE_AUTHOR_NAME: this.repo.namespace,
      SPACE_REPO_NAME: this.repo.name,
      SPACE_TITLE: this.config.title ?? this.repo.name,
      CPU_CORES: String(Math.max(m.opts.cpuPercent / 100, 0.01)),
      MEMORY: `${m.opts.memoryMb}Mi`,
    };
    const cgroup = await this.ensureCgroup();
    const node = [
      process.execPath,
      "--experimental-permission",
      `--allow-fs-read=${appDir}/`,
      `--allow-fs-write=${join(appDir, "data")}/`,
      `--max-old-space-size=${Math.max(Math.floor(m.opts.memoryMb * 0.75), 16)}`,
      "--disable-warning=ExperimentalWarning",
      join(appDir, ".hearth-build", "app.mjs"),
    ];
    const uid = m.caps.uid ? uidFor(this.repo.id, m.opts.uidBase) : undefined;
    const argv = confine(
      m.caps,
      {
        uid,
        cgroup,
        memoryMb: m.opts.memoryMb,
        fileMb: m.opts.diskMb,
        net: socketPath ? { socket: socketPath, port } : undefined,
        data: { dir: join(appDir, "data"), sizeMb: m.opts.diskMb },
      },
      node,
    );
    this.runLog.write(`starting ${this.config.appFile} at ${this.sha?.slice(0, 7)} on port ${port}\n`);
    this.runLog.write(
      m.caps.net
        ? "network: own namespace, loopback only (the hub comes in through a Unix socket)\n"
        : `warning: network not confined (${m.caps.netReason}): the app can reach the hub's port and other Spaces on loopback\n`,
    );
    this.runLog.write(
      m.caps.mount
        ? `disk: data/ is a ${m.opts.diskMb} MiB tmpfs, wiped on restart; files up to ${m.opts.diskMb} MiB\n`
        : `warning: data/ is not size-capped (${m.caps.mountReason}); ${m.caps.prlimit ? `files up to ${m.opts.diskMb} MiB` : "file size not capped either (no prlimit)"}\n`,
    );
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: appDir,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    this.port = port;
    this.socketPath = socketPath;
    this.startedAt = Date.now();
    this.stopping = false;
    const out = lineWriter(this.runLog);
    let tail = "";
    const onData = (c: Buffer) => {
      out.push(c);
      tail = (tail + c.toString("utf8")).slice(-4096);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    const exited = new Promise<void>((resolve) => {
      child.on("close", (code, signal) => {
        out.end();
        resolve();
        void this.onExit(child, code, signal, tail);
      });
      child.on("error", (e) => this.runLog.write(`spawn failed: ${e.message}\n`));
    });
    const deadline = Date.now() + m.opts.startTimeoutMs;
    let up = false;
    while (Date.now() < deadline && this.child === child) {
      if (await reachable(target)) {
        up = true;
        break;
      }
      const gone = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
      if (gone) break;
    }
    if (this.child !== child) return;
    if (!up) {
      this.runLog.write(`the app did not open port ${port} within ${m.opts.startTimeoutMs / 1000} s\n`);
      this.errorMessage = `the app did not open port ${port} within ${m.opts.startTimeoutMs / 1000} s`;
      await this.stop("RUNTIME_ERROR");
      return;
    }
    this.stage = "RUNNING";
    this.errorMessage = undefined;
    this.lastRequest = Date.now();
    this.runLog.write(`running on port ${port}\n`);
  }

  private async onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null, tail: string) {
    killGroup(child);
    if (this.child !== child) return;
    this.child = undefined;
    this.port = undefined;
    this.dropSocket();
    if (this.stopping || this.closed) return;
    const memory =
      (await this.cgroup?.memoryEvents().catch(() => false)) ||
      /heap out of memory|Array buffer allocation failed|Cannot allocate memory|ENOMEM/.test(tail);
    const how = signal ? `signal ${signal}` : `exit code ${code}`;
    const why = memory
      ? `stopped: memory limit (${this.manager.opts.memoryMb} MiB) exceeded (${how})`
      : `the app exited (${how})`;
    this.runLog.write(`${why}\n`);
    this.errorMessage = why;
    this.stage = "RUNTIME_ERROR";
    if (this.cgroup && memory) {
      // a fresh group, so the next OOM is told apart from this one
      await this.cgroup.remove().catch(() => {});
      this.cgroup = undefined;
    }
    if (Date.now() - this.startedAt > 30_000) this.crashes = 0;
    const delay = Math.min(this.manager.opts.backoffMs * 2 ** this.crashes, this.manager.opts.maxBackoffMs);
    this.crashes++;
    this.runLog.write(`restarting in ${(delay / 1000).toFixed(1)} s (crash ${this.crashes})\n`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.closed || this.child || this.stage !== "RUNTIME_ERROR") return;
      this.restarts++;
      void this.start();
    }, delay);
  }

  /** Restarts the app from its current build (new secrets and variables take effect). */
  restart(): Promise<void> {
    // one at a time: a second restart (two settings changed at once) must not clear the state of
    // the app the first one is starting
    const run = this.restarting.then(async () => {
      this.crashes = 0;
      await this.updating;
      if (this.config?.sdk !== "node") return;
      await this.stop("STOPPED");
      this.restarts++;
      await this.start();
    });
    this.restarting = run.catch(() => {});
    return run;
  }

  /** Stops the process (if any) and sets `stage`. */
  async stop(stage: SpaceStage): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const child = this.child;
    if (child) {
      this.stopping = true;
      const gone = new Promise<void>((r) => child.once("close", () => r()));
      try {
        process.kill(-(child.pid as number), "SIGTERM");
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          // already gone
        }
      }, 3000);
      await gone;
      clearTimeout(t);
      this.runLog.write(`stopped (${stage.toLowerCase()})\n`);
    }
    this.child = undefined;
    this.port = undefined;
    this.dropSocket();
    this.stage = stage;
  }

  /** Forgets the bridge's socket (synchronously: a concurrent start must not lose its new one). */
  private dropSocket(): void {
    const path = this.socketPath;
    this.socketPath = undefined;
    if (path) void rm(path, { force: true }).catch(() => {});
  }

  /** Waits until the app answers; wakes it when sleeping. Returns where to reach it, or undefined. */
  async ready(): Promise<AppTarget | undefined> {
    this.lastRequest = Date.now();
    await this.updating;
    if (this.config?.sdk !== "node") return undefined;
    // while a new commit builds, the running version keeps answering
    if ((this.stage === "RUNNING" || this.stage === "RUNNING_BUILDING") && this.port && this.child)
      return this.target();
    if (this.stage === "PAUSED" || this.stage === "BUILD_ERROR" || this.stage === "CONFIG_ERROR") return undefined;
    if (this.starting) await this.starting;
    else if (this.stage === "SLEEPING" || this.stage === "STOPPED") {
      this.runLog.write("waking up on a request\n");
      await this.start();
    } else if (this.stage === "BUILDING" || this.stage === "RUNNING_BUILDING") await this.updating;
    return this.stage === "RUNNING" ? this.target() : undefined;
  }

  private target(): AppTarget | undefined {
    return this.port ? { port: this.port, socketPath: this.socketPath } : undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stop("STOPPED");
    await this.cgroup?.remove().catch(() => {});
    this.cgroup = undefined;
  }

  async remove(): Promise<void> {
    await this.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** All Spaces of one hub. */
export class SpaceManager {
  readonly opts: Required<Omit<SpacesOptions, "originDomain" | "workspace" | "runDir">> & {
    originDomain?: string;
    workspace?: string;
  };
  readonly runDir: string;
  /** The bridges' Unix sockets: only the hub may open this folder. */
  readonly socketDir: string;
  readonly settings: SpaceSettingsStore;
  caps: SandboxCaps = { uid: false, cgroup: undefined, prlimit: false, unshare: undefined, net: false, mount: false };
  private readonly spaces = new Map<string, SpaceRuntime>();
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly db: HubDatabase,
    readonly repos: RepoService,
    readonly blobs: BlobStore,
    readonly dataDir: string,
    options: SpacesOptions = {},
  ) {
    this.runDir = options.runDir ?? `${dataDir}-spaces`;
    this.socketDir = join(this.runDir, ".sockets");
    this.settings = new SpaceSettingsStore(join(dataDir, "spaces"));
    this.opts = {
      memoryMb: options.memoryMb ?? 512,
      diskMb: options.diskMb ?? 1024,
      cpuPercent: options.cpuPercent ?? 50,
      idleMs: options.idleMs ?? 30 * 60_000,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      buildTimeoutMs: options.buildTimeoutMs ?? 10 * 60_000,
      backoffMs: options.backoffMs ?? 1000,
      maxBackoffMs: options.maxBackoffMs ?? 60_000,
      sandbox: options.sandbox ?? "auto",
      uidBase: options.uidBase ?? 200_000,
      npmArgs: options.npmArgs ?? [],
      originDomain: options.originDomain,
      workspace: options.workspace ?? join(import.meta.dirname, "..", "..", "..", ".."),
    };
  }

  async init(): Promise<void> {
    this.caps = await detectSandbox(this.opts.sandbox);
    // Space uids must not even traverse the hub's data folder (git repos, LFS, database, tokens)
    if (this.caps.uid) await chmod(this.dataDir, 0o700);
    await mkdir(this.runDir, { recursive: true });
    // others may traverse (each Space's own folder is 0700 and owned by its uid) but not list
    await chmod(this.runDir, 0o711);
    await mkdir(this.socketDir, { recursive: true, mode: 0o700 });
    await chmod(this.socketDir, 0o700);
    for (const [what, on, why] of [
      ["network", this.caps.net, this.caps.netReason],
      ["disk (data/ size)", this.caps.mount, this.caps.mountReason],
    ] as const)
      if (!on && this.opts.sandbox === "auto")
        console.warn(`hearth hub: warning: Space ${what} confinement is unavailable here: ${why}`);
    this.idleTimer = setInterval(() => this.sweepIdle(), 1000);
    this.idleTimer.unref();
  }

  /** Proxy settings and registry for npm; nothing else of the hub's environment. */
  npmEnv(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of [
      "http_proxy",
      "https_proxy",
      "HTTP_PROXY",
      "HTTPS_PROXY",
      "no_proxy",
      "NO_PROXY",
      "npm_config_registry",
    ])
      if (process.env[k]) out[k] = process.env[k] as string;
    return out;
  }

  /** The config at the head of main, or undefined when the repo has no main yet. */
  async resolve(r: RepoRow): Promise<Resolved | undefined> {
    const git = this.repos.git(r);
    let commit: string;
    try {
      commit = await git.resolve("main");
    } catch {
      return undefined;
    }
    const snap = await git.snapshot(commit);
    const readme = snap.get("README.md");
    const text = readme?.type === "file" && !readme.lfs ? (await git.readBlob(readme.oid)).toString("utf8") : undefined;
    const files = new Set([...snap.values()].filter((e) => e.type === "file").map((e) => e.path));
    const parsed = parseSpaceConfig(text, files, r.extra.sdk);
    return parsed.ok ? { commit, config: parsed.config } : { commit, error: parsed.error };
  }

  /** The runtime of a Space (created on first use; the first use reads its config). */
  async get(r: RepoRow): Promise<SpaceRuntime> {
    let s = this.spaces.get(r.id);
    if (!s) {
      s = new SpaceRuntime(this, r);
      this.spaces.set(r.id, s);
      await s.update();
    }
    s.repo = r;
    return s;
  }

  /** Called after every commit or push to a Space. */
  async onUpdated(r: RepoRow): Promise<void> {
    if (r.type !== "space") return;
    const s = this.spaces.get(r.id);
    if (s) await s.update();
    else await this.get(r);
  }

  async onRemoved(r: RepoRow): Promise<void> {
    const s = this.spaces.get(r.id);
    this.spaces.delete(r.id);
    await s?.remove();
    await this.settings.forget(r.id);
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const s of this.spaces.values())
      if (s.stage === "RUNNING" && s.config?.sdk === "node" && now - s.lastRequest > this.opts.idleMs) {
        s.runLog.write(`no request for ${Math.round((now - s.lastRequest) / 1000)} s: going to sleep\n`);
        void s.stop("SLEEPING");
      }
  }

  async close(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    await Promise.all([...this.spaces.values()].map((s) => s.close()));
    this.spaces.clear();
    await rm(this.runDir, { recursive: true, force: true });
  }
}
