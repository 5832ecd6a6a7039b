/**
 * `hearth launch --num-processes N script.ts`: starts N copies of a script as child processes,
 * one replica each, and prepares the shared-memory folder {@link ShmTransport} works in: slot
 * files and the named pipes of its barrier (or, where named pipes cannot be made, it keeps the
 * barrier itself over the IPC channel). Workers
 * learn their place from `HEARTH_RANK`, `HEARTH_WORLD_SIZE`, `HEARTH_LOCAL_RANK` and find the
 * shared-memory folder in `HEARTH_SHM_DIR`. If a worker fails the others are stopped and the
 * launcher reports the first failure's exit status.
 */
import { type ChildProcess, execFileSync, fork } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AccelerateError } from "../errors.ts";
import { type BarrierMessage, gatherPath, pipePath, reducePath, slotPath } from "./shm-transport.ts";

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** The script each worker runs (.ts via tsx, or .js/.mjs). */
  script: string;
  /** Arguments after the script. */
  args?: string[];
  /** Number of worker processes (default 1). */
  numProcesses?: number;
  /** Extra environment for the workers. */
  env?: Record<string, string>;
  /** Where worker output goes (default: inherited). */
  stdio?: "inherit" | "pipe";
  /** Receives piped output when `stdio` is "pipe". */
  onOutput?: (rank: number, chunk: string) => void;
  /**
   * How workers wait for each other: "pipes" (default: named pipes between the workers) or
   * "ipc" (messages relayed by the launcher; used where named pipes cannot be made, and by
   * `bench/accelerate` to compare the two).
   */
  barrier?: "pipes" | "ipc";
  /**
   * After a worker fails, how long the others get to stop by themselves (a rank waiting for
   * the failed one in a collective reads end-of-file and exits with a clear error) before they
   * are sent SIGTERM, in ms (default 2000).
   */
  stopGraceMs?: number;
}

/** Exit status of each worker, and the overall status (0 when all succeeded). */
export interface LaunchResult {
  code: number;
  codes: number[];
  /** The first worker that failed, and how (absent when all succeeded); also printed to stderr. */
  failure?: { rank: number; message: string };
}

/**
 * Runs `script` in `numProcesses` worker processes and resolves when all have exited.
 *
 * @example
 * const { code } = await launch({ script: "train.ts", numProcesses: 2 });
 */
export async function launch(opts: LaunchOptions): Promise<LaunchResult> {
  const n = opts.numProcesses ?? 1;
  if (!Number.isInteger(n) || n < 1) {
    throw new AccelerateError("HEARTH_ACCELERATE_LAUNCH", `launch: numProcesses must be an integer >= 1, got ${n}`);
  }
  const script = resolve(opts.script);
  if (!existsSync(script))
    throw new AccelerateError("HEARTH_ACCELERATE_LAUNCH", `launch: script ${script} does not exist`);
  const base = existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const dir = mkdtempSync(join(base, "hearth-launch-"));
  // every buffer file exists before any worker opens its peers'
  for (let r = 0; r < n; r++) {
    for (const s of [0, 1]) writeFileSync(slotPath(dir, r, s), "");
    writeFileSync(reducePath(dir, r), "");
    writeFileSync(gatherPath(dir, r), "");
  }
  // one named pipe per ordered pair of ranks for the barrier; without mkfifo (not POSIX) the
  // workers fall back to the IPC barrier below
  const pipes: string[] = [];
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b) pipes.push(pipePath(dir, a, b));
  if (pipes.length > 0 && opts.barrier !== "ipc") {
    try {
      execFileSync("mkfifo", ["-m", "600", ...pipes], { stdio: "ignore" });
    } catch {
      for (const p of pipes) rmSync(p, { force: true });
    }
  }
  const tsx = import.meta.resolve("tsx");
  const children: ChildProcess[] = [];
  const arrived = new Map<number, number>();
  const codes: number[] = new Array(n).fill(-1);
  let firstFailure = 0;
  let failure: LaunchResult["failure"];
  let stopTimer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((done) => {
      let exited = 0;
      for (let rank = 0; rank < n; rank++) {
        const child = fork(script, opts.args ?? [], {
          execArgv: [...process.execArgv.filter((a) => !a.startsWith("--test")), "--import", tsx],
          env: {
            ...process.env,
            ...opts.env,
            HEARTH_RANK: String(rank),
            HEARTH_LOCAL_RANK: String(rank),
            HEARTH_WORLD_SIZE: String(n),
            HEARTH_SHM_DIR: dir,
          },
          stdio: opts.stdio === "pipe" ? ["ignore", "pipe", "pipe", "ipc"] : ["inherit", "inherit", "inherit", "ipc"],
        });
        if (opts.stdio === "pipe") {
          child.stdout?.on("data", (c: Buffer) => opts.onOutput?.(rank, c.toString()));
          child.stderr?.on("data", (c: Buffer) => opts.onOutput?.(rank, c.toString()));
        }
        child.on("message", (m: BarrierMessage) => {
          if (m?.hearth !== "barrier") return;
          const count = (arrived.get(m.seq) ?? 0) + 1;
          if (count < n) arrived.set(m.seq, count);
          else {
            arrived.delete(m.seq);
            for (const c of children)
              if (c.connected) c.send({ hearth: "release", seq: m.seq } satisfies BarrierMessage);
          }
        });
        child.on("exit", (code, signal) => {
          codes[rank] = code ?? (signal ? 128 : 1);
          if (codes[rank] !== 0 && firstFailure === 0) {
            firstFailure = codes[rank] as number;
            const others = children.filter((c) => c !== child && c.exitCode === null && c.signalCode === null);
            const how = signal ? `was killed by ${signal}` : `exited with status ${code}`;
            failure = {
              rank,
              message: `hearth launch: rank ${rank} ${how}${others.length ? `; stopping the other ${others.length} rank(s)` : ""}`,
            };
            process.stderr.write(`${failure.message}\n`);
            stopTimer = setTimeout(() => {
              for (const c of others) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
            }, opts.stopGraceMs ?? 2000);
          }
          if (++exited === n) {
            clearTimeout(stopTimer);
            done();
          }
        });
        children.push(child);
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return failure ? { code: firstFailure, codes, failure } : { code: firstFailure, codes };
}
