/**
 * Building a node Space: a fresh working copy of the repository at one commit in its own folder,
 * its dependencies (workspace packages linked, others installed with npm in a side folder), and
 * one bundled ES module (esbuild) that the runner starts. Every step that reads app-controlled
 * paths runs as the Space's uid.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, cp, mkdir, readdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
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

/** Folders of a workspace package that an app never needs. */
const SKIP = /(^|\/)(node_modules|build|test|bench|\.git)(\/|$)/;

/** Copies what the workspace can serve into `modules`; returns `name@range` of the rest. */
async function copyDependencies(ctx: BuildContext, deps: Record<string, string>, modules: string): Promise<string[]> {
  const ws = await workspacePackages(ctx.workspace);
  const external: string[] = [];
  const seen = new Set<string>();
  const queue: Array<[string, string, boolean]> = Object.entries(deps).map(([n, r]) => [n, r, true]);
  while (queue.length) {
    const [name, range, top] = queue.shift() as [string, string, boolean];
    if (seen.has(name)) continue;
    seen.add(name);
    let src = ws.get(name);
    let how = "workspace package";
    if (!src && ctx.workspace) {
      const dir = join(ctx.workspace, "node_modules", name);
      try {
        const v = (JSON.parse(await readFile(join(dir, "package.json"), "utf8")) as { version?: string }).version ?? "";
        // transitive dependencies: whatever npm installed for the workspace
        if (!top || satisfies(v, range)) {
          src = dir;
          how = `workspace node_modules (${v} for ${range})`;
        }
      } catch {
        // not installed there
      }
    }
    if (!src) {
      if (top) external.push(`${name}@${range}`);
      else ctx.log.write(`note: ${name} (needed by a dependency) is not in the workspace\n`);
      continue;
    }
    const workspacePkg = how === "workspace package";
    const root = src;
    await cp(src, join(modules, name), {
      recursive: true,
      dereference: true,
      filter: (p) => !workspacePkg || !SKIP.test(relative(root, p)),
    });
    ctx.log.write(`copied ${name} from the ${how}\n`);
    try {
      const pkg = JSON.parse(await readFile(join(src, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
      };
      for (const [n, r] of Object.entries(pkg.dependencies ?? {})) queue.push([n, r, false]);
    } catch {
      // no manifest
    }
  }
  return external;
}

/** Can `uid` read these files (and so run node on them)? */
function uidCanRun(uid: number, files: string[]): boolean {
  const test = files.map((f) => `test -r '${f.replace(/'/g, "'\\''")}'`).join(" && ");
  return (
    spawnSync("setpriv", [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", "/bin/sh", "-c", test]).status === 0
  );
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
 * Dependencies: a `package.json` `dependencies` entry that the workspace can serve (one of its
 * packages, or a package installed in its node_modules at a version the range accepts) is copied
 * into the app's node_modules with its own dependencies (works offline); anything else is
 * installed by `npm install` in `buildDir/deps`. The app folder is then self-contained: the
 * bundle step may read nothing outside it.
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
  const modules = join(appDir, "node_modules");
  const external = await copyDependencies(ctx, deps, modules);
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
    const installed = join(depsDir, "node_modules");
    const names: string[] = [];
    for (const n of await readdir(installed))
      if (n.startsWith("@")) for (const m of await readdir(join(installed, n))) names.push(`${n}/${m}`);
      else if (!n.startsWith(".")) names.push(n);
    for (const name of names) {
      const to = join(modules, name);
      if (existsSync(to)) continue; // what the workspace served stays
      await mkdir(dirname(to), { recursive: true });
      await rename(join(installed, name), to);
    }
  }
  const esbuild = import.meta.resolve("esbuild");
  const script = join(import.meta.dirname, "bundle.mjs");
  const out = join(appDir, BUNDLE);
  // as the Space's uid when it can read the bundler (it cannot when the hub's checkout lives in
  // a private folder); either way bundle.mjs refuses any file outside the app folder
  const asUid = ctx.uid !== undefined && ctx.caps.uid && uidCanRun(ctx.uid, [script, fileURLToPath(esbuild)]);
  if (ctx.uid !== undefined && ctx.caps.uid && !asUid)
    ctx.log.write(
      "note: the bundler is not readable by the Space's uid; bundling as the hub's user (confined to the app folder)\n",
    );
  await runLogged(
    asUid ? ctx : { ...ctx, uid: undefined },
    [process.execPath, script, esbuild, appDir, `./${appFile}`, out],
    appDir,
    env,
    "bundle",
  );
  return out;
}
