import { mkdtemp, rm } from "node:fs/promises";
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
