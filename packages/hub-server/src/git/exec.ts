import { spawn } from "node:child_process";
import { hubError } from "../errors.ts";

/** Environment for every git subprocess: no user config, no prompts, stable output. */
export const gitEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
  LC_ALL: "C",
});

/**
 * Runs `git <args>` and resolves with its stdout. A non-zero exit throws
 * HEARTH_HUBSERVER_GIT_FAILED unless `okCodes` lists it (then stdout is returned as is).
 */
export function runGit(
  args: string[],
  opts: { cwd?: string; input?: Buffer | string; okCodes?: number[] } = {},
): Promise<{ stdout: Buffer; code: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn("git", args, { cwd: opts.cwd, env: gitEnv(), stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    child.on("error", (e) =>
      reject(
        hubError(
          "HEARTH_HUBSERVER_GIT_FAILED",
          `git ${args[0]}: could not start git (${e.message}); is git installed?`,
        ),
      ),
    );
    child.on("close", (code) => {
      const c = code ?? -1;
      if (c === 0 || opts.okCodes?.includes(c)) resolve({ stdout: Buffer.concat(out), code: c });
      else
        reject(
          hubError(
            "HEARTH_HUBSERVER_GIT_FAILED",
            `git ${args.join(" ").slice(0, 200)}: exit ${c}: ${Buffer.concat(err).toString().trim().slice(0, 500)}`,
          ),
        );
    });
    child.stdin.on("error", () => {});
    child.stdin.end(opts.input ?? "");
  });
}
