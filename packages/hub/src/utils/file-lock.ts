/**
 * Cross-process lock on `<cache>/.locks/<repo_folder>/<etag>.lock`, the path Python uses.
 *
 * Python (the `filelock` package) holds an flock() on that file and never deletes it. Node
 * has no flock(), so where util-linux's `flock` command exists (Linux) a small child process
 * `flock -x <file>` holds the lock for us: the very same kernel lock Python takes, so Hearth
 * and Python processes exclude each other. The child keeps the lock until we close its stdin
 * (or we die, which closes it too).
 *
 * Without `flock`, the fallback lock is the file's existence: created with O_EXCL holding
 * `pid@host`, stale when its owner is a dead process on this host or its mtime (refreshed by
 * the owner) is older than `staleMs`. An empty file (Python's) is taken over only when
 * /proc/locks shows no flock on it, or after `staleMs` where /proc/locks does not exist.
 */

import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import { mkdir } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { HubError } from "../errors.ts";

export interface LockOptions {
  /** Give up after this long (default 30 minutes). */
  timeoutMs?: number;
  /** A lock whose mtime is older than this is stale (default 60 s). */
  staleMs?: number;
  pollMs?: number;
  /** `flock` (default where the command exists) or `exclusive-file`. */
  backend?: "flock" | "exclusive-file";
}

let flockCommand: boolean | undefined;

function hasFlockCommand(): boolean {
  flockCommand ??= spawnSync("flock", ["--version"], { stdio: "ignore" }).status === 0;
  return flockCommand;
}

const HOST = hostname();

/** Takes the lock (waiting for it) and returns the function that releases it. */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
  const backend = opts.backend ?? (hasFlockCommand() ? "flock" : "exclusive-file");
  return backend === "flock" ? acquireFlock(path, opts) : acquireExclusiveFile(path, opts);
}

async function acquireFlock(path: string, opts: LockOptions): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  await mkdir(dirname(path), { recursive: true });
  const child = spawn(
    "flock",
    ["-x", "-w", String(Math.max(1, Math.ceil(timeoutMs / 1000))), path, "-c", "echo locked; exec cat >/dev/null"],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.once("data", () => resolve());
    child.once("error", reject);
    child.once("exit", (code) =>
      reject(
        code === 1
          ? new HubError("HEARTH_HUB_LOCK_TIMEOUT", `lock ${path}: still held by another process after ${timeoutMs} ms`)
          : new Error(`lock ${path}: flock exited ${code}: ${stderr.trim()}`),
      ),
    );
  });
  // Do not keep the event loop alive for the lock holder; it ends when stdin closes.
  child.unref();
  for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
  let released = false;
  return () => {
    if (released) return;
    released = true;
    child.stdin.end();
  };
}

async function acquireExclusiveFile(path: string, opts: LockOptions): Promise<() => void> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const staleMs = opts.staleMs ?? 60_000;
  const pollMs = opts.pollMs ?? 50;
  await mkdir(dirname(path), { recursive: true });
  const token = `${process.pid}@${HOST}:${Math.random().toString(36).slice(2)}\n`;
  const started = Date.now();
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, token);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    if (isStale(path, staleMs)) breakStale(path);
    else {
      if (Date.now() - started > timeoutMs) {
        throw new HubError(
          "HEARTH_HUB_LOCK_TIMEOUT",
          `lock ${path}: still held by another process after ${timeoutMs} ms`,
        );
      }
      await sleep(pollMs);
    }
  }
  const keepAlive = setInterval(
    () => {
      try {
        const now = new Date();
        utimesSync(path, now, now);
      } catch {
        // the file vanished: nothing to refresh
      }
    },
    Math.max(1000, staleMs / 4),
  );
  keepAlive.unref();
  return () => {
    clearInterval(keepAlive);
    try {
      if (readFileSync(path, "utf8") === token) unlinkSync(path);
    } catch {
      // already gone
    }
  };
}

function isStale(path: string, staleMs: number): boolean {
  let content: string;
  let mtimeMs: number;
  let ino: number;
  try {
    content = readFileSync(path, "utf8");
    const st = statSync(path);
    mtimeMs = st.mtimeMs;
    ino = st.ino;
  } catch {
    return false; // vanished: the next open() will tell
  }
  const age = Date.now() - mtimeMs;
  const owner = /^(\d+)@([^:]+):/.exec(content);
  if (owner) {
    if (owner[2] === HOST && !processAlive(Number(owner[1]))) return true;
    return age > staleMs;
  }
  // Empty or foreign content: a Python lock file. Held only while someone flock()s it.
  if (age < 1000) return false;
  const held = flockHeld(ino);
  return held === undefined ? age > staleMs : !held;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Linux only: is there an flock/posix lock on this inode? undefined when unknown. */
function flockHeld(ino: number): boolean | undefined {
  let text: string;
  try {
    text = readFileSync("/proc/locks", "utf8");
  } catch {
    return undefined;
  }
  return text.split("\n").some((line) => line.split(/\s+/).some((f) => f.endsWith(`:${ino}`)));
}

/** Moves the stale file aside under a unique name; if it turned out fresh, puts it back. */
function breakStale(path: string): void {
  const aside = `${path}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const before = readFileSync(path, "utf8");
    renameSync(path, aside);
    const after = readFileSync(aside, "utf8");
    if (after !== before) {
      try {
        linkSync(aside, path);
      } catch {
        // someone else already re-created the lock
      }
    }
    unlinkSync(aside);
  } catch {
    // raced with another waiter: loop again
  }
}
