import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type BuildAppOptions, buildApp } from "../src/app.ts";
import { createUser } from "../src/bootstrap.ts";

export interface TestHub {
  app: FastifyInstance;
  url: string;
  dataDir: string;
  close(): Promise<void>;
}

/** A hub on a random loopback port with its data in a fresh temp folder. */
export async function startHub(opts: Partial<BuildAppOptions> = {}): Promise<TestHub> {
  const dataDir = await mkdtemp(join(tmpdir(), "hearth-hub-"));
  const app = await buildApp({ dataDir, ...opts });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : 0;
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export { createUser };

/** A git client isolated from the machine's configuration: its own global config file. */
export interface GitClient {
  /** Runs git asynchronously (the server lives in this process, so a sync call would deadlock). */
  run(cwd: string, ...args: string[]): Promise<string>;
}

/**
 * Writes `<dir>/gitconfig` (user, `init.defaultBranch = main`), installs git-lfs's filters in
 * it, and returns a client that uses only that config. Each call times out after `timeoutMs`.
 */
export async function gitClient(dir: string, user: string, timeoutMs: number): Promise<GitClient> {
  const gitconfig = join(dir, "gitconfig");
  await writeFile(
    gitconfig,
    `[user]\n\tname = ${user}\n\temail = ${user.toLowerCase()}@example.org\n[init]\n\tdefaultBranch = main\n`,
  );
  const client: GitClient = {
    run: (cwd, ...args) =>
      new Promise((resolve, reject) => {
        execFile(
          "git",
          args,
          {
            cwd,
            encoding: "utf8",
            timeout: timeoutMs,
            env: {
              ...process.env,
              GIT_CONFIG_NOSYSTEM: "1",
              GIT_CONFIG_GLOBAL: gitconfig,
              GIT_TERMINAL_PROMPT: "0",
              GIT_ASKPASS: "",
              SSH_ASKPASS: "",
            },
          },
          (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(" ")}: ${stderr}`)) : resolve(stdout)),
        );
      }),
  };
  await client.run(dir, "lfs", "install", "--skip-repo");
  return client;
}
