/**
 * A small, honest hub for tests and benchmarks (node:http, hub-api.md): resolve with ETag,
 * X-Repo-Commit, X-Linked-Etag/Size and Range; whoami-v2; repo create/delete/info/list; refs,
 * branches, tags; tree and paths-info with Link pagination; preupload; NDJSON commits with
 * parentCommit; LFS batch (basic + multipart) with self-authorising upload URLs.
 * It is a test double, not the Hearth hub server (packages/hub-server).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHandler, type Faults, type HubOptions, type RequestLog } from "./app.ts";
import { HubState, type RepoType, type User } from "./state.ts";

export type { Faults, RequestLog } from "./app.ts";
export { HubState } from "./state.ts";

export interface TestHub {
  url: string;
  state: HubState;
  log: RequestLog[];
  faults: Faults;
  /** Registers a token. */
  addUser(token: string, user: Partial<User> & { name: string }): void;
  /** Creates a repo with the given files in one commit on main (LFS where the hub's rules say). */
  seed(opts: {
    repo: string;
    type?: RepoType;
    files: Record<string, Buffer | string>;
    private?: boolean;
    /** Force the commit id (to match a hand-built cache fixture). */
    commitId?: string;
  }): Promise<string>;
  close(): Promise<void>;
}

export async function startTestHub(
  options: Partial<HubOptions> & { lfsDir?: string; port?: number } = {},
): Promise<TestHub> {
  const lfsDir = options.lfsDir ?? mkdtempSync(join(tmpdir(), "hearth-testhub-"));
  const ownsDir = !options.lfsDir;
  const opts: HubOptions = {
    lfsThreshold: options.lfsThreshold ?? 10 * 1024 * 1024,
    multipartThreshold: options.multipartThreshold ?? 64 * 1024 * 1024,
    multipartChunkSize: options.multipartChunkSize ?? 16 * 1024 * 1024,
    pageSize: options.pageSize ?? 1000,
    redirectLfs: options.redirectLfs ?? true,
  };
  const state = new HubState(lfsDir);
  const log: RequestLog[] = [];
  const faults: Faults = {};
  const server: Server = createServer(createHandler(state, opts, log, faults));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(options.port ?? 0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    state,
    log,
    faults,
    addUser(token, user) {
      state.users.set(token, { role: "write", orgs: [], tokenName: `${user.name}-token`, ...user });
    },
    async seed({ repo, type = "model", files, private: isPrivate = false, commitId }) {
      const { createHash } = await import("node:crypto");
      const { writeFileSync } = await import("node:fs");
      const { lfsEntry, regular } = await import("./state.ts");
      const r = state.repos.get(state.key(type, repo)) ?? state.createRepo(type, repo, isPrivate, repo.split("/")[0]);
      const head = state.resolve(r, "main");
      const map = new Map(head?.files);
      for (const [path, content] of Object.entries(files)) {
        const data = typeof content === "string" ? Buffer.from(content) : content;
        if (data.length > opts.lfsThreshold || state.isLfsPath(head, path)) {
          const sha = createHash("sha256").update(data).digest("hex");
          writeFileSync(state.lfsPath(sha), data);
          map.set(path, lfsEntry(sha, data.length));
        } else map.set(path, regular(data));
      }
      return state.addCommit(r, "main", { title: "seed", message: "", author: "seed", files: map, id: commitId }).id;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      if (ownsDir) rmSync(lfsDir, { recursive: true, force: true });
    },
  };
}
