/**
 * Cross-process lock on `<cache>/.locks/<repo_folder>/<etag>.lock`, the path Python uses.
 *
 * Node has no flock(), so the lock is the file's existence: created with O_EXCL and holding
 * `pid@host`. A lock is stale when its owner is a dead process on this host, or when its
 * mtime (refreshed every few seconds by the owner) is older than `staleMs`. Python leaves an
 * empty lock file behind and holds it with flock(); an empty file is therefore only taken
 * over when /proc/locks shows no flock on it (Linux), or after `staleMs` elsewhere.
 */
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
}

const HOST = hostname();

export async function withFileLock<T>(path: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const release = await acquireLock(path, opts);
  try {
    return await fn();
  } finally {
    release();
  }
}

export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => void> {
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
