/**
 * Building a node Space: a fresh working copy of the repository at one commit in its own folder,
 * its dependencies (workspace packages linked, others installed with npm in a side folder), and
 * one bundled ES module (esbuild) that the runner starts. Every step that reads app-controlled
 * paths runs as the Space's uid.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, lstat, mkdir, readdir, readFile, rename, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { RepoRow } from "../db/types.ts";
import type { RepoService } from "../repos/service.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { lineWriter, type SpaceLog } from "./logs.ts";
import { confine, type SandboxCaps, type SpaceCgroup } from "./sandbox.ts";
import { satisfies } from "./semver.ts";

export interface BuildContext {
  repos: RepoService;
  blobs: BlobStore;
  caps: SandboxCaps;
  uid: number | undefined;
  cgroup: SpaceCgroup | undefined;
  memoryMb: number;
  /** Folder holding `packages/<x>/package.json` whose packages resolve without the registry. */
  workspace: string | undefined;
  log: SpaceLog;
  /** Environment for npm (proxy settings, registry); never the hub's tokens. */
  npmEnv: Record<string, string>;
  /** Extra `npm install` arguments (e.g. `--offline`). */
  npmArgs: string[];
  buildTimeoutMs: number;
}

export const BUNDLE = ".hearth-build/app.mjs";

/** Writes the tree of `commit` (LFS files from the blob store) under `dir`. */
export async function checkout(ctx: BuildContext, r: RepoRow, commit: string, dir: string): Promise<number> {
  const git = ctx.repos.git(r);
  const snap = await git.snapshot(commit);
  let n = 0;
  for (const e of snap.values()) {
    if (e.type !== "file") continue;
    // git trees from a push are not trusted: nothing may land outside the working copy
    if (e.path.startsWith("/") || e.path.split("/").some((p) => p === ".." || p === "." || p === "" || p === ".git"))
      throw new Error(`checkout: refusing the path '${e.path}'`);
    const target = join(dir, e.path);
    await mkdir(dirname(target), { recursive: true });
    if (e.lfs) {
      const chunks: Buffer[] = [];
      for await (const c of ctx.blobs.read(e.lfs.oid)) chunks.push(c as Buffer);
      await writeFile(target, Buffer.concat(chunks));
    } else await writeFile(target, await git.readBlob(e.oid), { mode: e.mode === "100755" ? 0o755 : 0o644 });
    n++;
  }
  return n;
}

async function workspacePackages(root: string | undefined): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (!root || !existsSync(join(root, "packages"))) return out;
  for (const d of await readdir(join(root, "packages"))) {
    try {
      const pkg = JSON.parse(await readFile(join(root, "packages", d, "package.json"), "utf8")) as { name?: string };
      if (pkg.name) out.set(pkg.name, join(root, "packages", d));
    } catch {
      // not a package
    }
  }
  return out;
}

/** Runs a command confined as the Space's uid, streaming its output to the build log. */
export function runLogged(
  ctx: BuildContext,
  argv: string[],
  cwd: string,
  env: Record<string, string>,
  label: string,
): Promise<void> {
  const cmd = confine(ctx.caps, { uid: ctx.uid, cgroup: ctx.cgroup, memoryMb: ctx.memoryMb, noAddressCap: true }, argv);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0] as string, cmd.slice(1), {
      cwd,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    const out = lineWriter(ctx.log);
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => out.push(c));
    const timer = setTimeout(() => {
      ctx.log.write(`${label}: timed out after ${ctx.buildTimeoutMs / 1000} s\n`);
      try {
        process.kill(-(child.pid as number), "SIGKILL");
      } catch {
        // gone already
      }
    }, ctx.buildTimeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${label}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      out.end();
      if (code === 0) resolve();
      else reject(new Error(`${label} failed (${signal ? `signal ${signal}` : `exit code ${code}`})`));
    });
  });
}

async function chownTree(dir: string, uid: number): Promise<void> {
  await chown(dir, uid, uid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) await chownTree(p, uid);
    else await chown(p, uid, uid);
  }
}

/**
 * Builds the app in `buildDir/app`. Returns the bundled entry (absolute path).
 * Dependencies: a `package.json` `dependencies` entry naming a workspace package is linked to
 * it (works offline); anything else is installed by `npm install` in `buildDir/deps`.
 */
export async function buildNodeApp(
  ctx: BuildContext,
  r: RepoRow,
  commit: string,
  appFile: string,
  buildDir: string,
): Promise<string> {
  const appDir = join(buildDir, "app");
  await mkdir(appDir, { recursive: true, mode: 0o700 });
  const files = await checkout(ctx, r, commit, appDir);
  ctx.log.write(`checked out ${files} files of ${r.namespace}/${r.name} at ${commit}\n`);
  await mkdir(join(appDir, "data"), { recursive: true });
  await mkdir(join(buildDir, "home"), { recursive: true });

  let deps: Record<string, string> = {};
  if (existsSync(join(appDir, "package.json"))) {
    try {
      const pkg = JSON.parse(await readFile(join(appDir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      };
      deps = pkg.dependencies ?? {};
    } catch (e) {
      throw new Error(`package.json is not valid JSON: ${(e as Error).message}`);
    }
  }
  const ws = await workspacePackages(ctx.workspace);
  const external: string[] = [];
  const modules = join(appDir, "node_modules");
  for (const [name, range] of Object.entries(deps)) {
    let local = ws.get(name);
    let how = "workspace";
    if (!local && ctx.workspace) {
      // a package already installed in the workspace, at a version the range accepts
      const dir = join(ctx.workspace, "node_modules", name);
      try {
        const v = (JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version?: string }).version ?? "";
        if (satisfies(v, range)) {
          local = dir;
          how = `workspace node_modules (${v} for ${range})`;
        }
      } catch {
        // not there
      }
    }
    if (local) {
      const link = join(modules, name);
      await mkdir(dirname(link), { recursive: true });
      await rm(link, { recursive: true, force: true });
      await symlink(local, link, "dir");
      ctx.log.write(`linked ${name} -> ${how} ${local}\n`);
    } else external.push(`${name}@${range}`);
  }
  if (ctx.uid !== undefined && ctx.caps.uid) await chownTree(buildDir, ctx.uid);
  const env = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: join(buildDir, "home"), ...ctx.npmEnv };
  if (external.length) {
    const depsDir = join(buildDir, "deps");
    await mkdir(depsDir, { recursive: true });
    await writeFile(join(depsDir, "package.json"), JSON.stringify({ name: "space-deps", private: true }));
    if (ctx.uid !== undefined && ctx.caps.uid) await chownTree(depsDir, ctx.uid);
    ctx.log.write(`npm install ${external.join(" ")}\n`);
    await runLogged(
      ctx,
      [
        "npm",
        "install",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        "--omit=dev",
        "--no-package-lock",
        ...ctx.npmArgs,
        ...external,
      ],
      depsDir,
      env,
      "npm install",
    );
    for (const name of await readdir(join(depsDir, "node_modules"))) {
      const from = join(depsDir, "node_modules", name);
      const to = join(modules, name);
      if (existsSync(to) && (await lstat(to)).isSymbolicLink()) continue;
      await mkdir(modules, { recursive: true });
      await rm(to, { recursive: true, force: true });
      await rename(from, to);
    }
  }
  const esbuild = import.meta.resolve("esbuild");
  const out = join(appDir, BUNDLE);
  await runLogged(
    ctx,
    [process.execPath, join(import.meta.dirname, "bundle.mjs"), esbuild, appDir, `./${appFile}`, out],
    appDir,
    env,
    "bundle",
  );
  return out;
}
