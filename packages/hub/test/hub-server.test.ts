/**
 * The client against the real Hearth hub server (packages/hub-server, fastify + git +
 * SQLite), in-process on a loopback port. Skipped, with a message, in a checkout that does
 * not have that package yet; the same flows run against test/server in the other files.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createBranch,
  createCommit,
  createRepo,
  deleteRepo,
  getPathsInfo,
  hfHubDownload,
  isHubError,
  listRepoRefs,
  listRepoTree,
  repoInfo,
  snapshotDownload,
  uploadFile,
  uploadFolder,
  whoami,
} from "../src/index.ts";
import { bytes, tmp } from "./helpers.ts";

interface RealHub {
  url: string;
  token: string;
  close(): Promise<void>;
}

async function startRealHub(): Promise<RealHub | string> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(["@hearth", "hub-server"].join("/"))) as Record<string, unknown>;
  } catch (err) {
    return `@hearth/hub-server is not in this checkout (${(err as Error).message.split("\n")[0]})`;
  }
  const buildApp = mod.buildApp as (o: Record<string, unknown>) => Promise<{
    listen(o: { port: number; host: string }): Promise<unknown>;
    server: { address(): unknown };
    close(): Promise<void>;
  }>;
  const createUser = mod.createUser as (app: unknown, o: { name: string }) => Promise<{ token: string }>;
  const data = tmp("hearth-real-hub-");
  const app = await buildApp({
    dataDir: data.dir,
    limits: { multipartThreshold: 3 * 1024 * 1024, multipartChunkSize: 1024 * 1024 },
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { token } = await createUser(app, { name: "alice" });
  const port = (app.server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    async close() {
      await app.close();
      data.cleanup();
    },
  };
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("@hearth/hub against the Hearth hub server", async () => {
  const hubOrWhy = await startRealHub();
  if (typeof hubOrWhy === "string") {
    test.skip(`skipped: ${hubOrWhy}`, () => {});
    return;
  }
  const hub = hubOrWhy;
  const call = { endpoint: hub.url, accessToken: hub.token, progressBar: false as const };
  const cache = tmp();
  before(async () => {
    await createRepo({ ...call, repo: "alice/int" });
  });
  after(async () => {
    await hub.close();
    cache.cleanup();
  });

  test("whoami, repo info", async () => {
    assert.equal((await whoami(call)).name, "alice");
    const info = await repoInfo({ ...call, repo: "alice/int" });
    assert.equal(info.id, "alice/int");
    assert.match(info.sha ?? "", /^[0-9a-f]{40}$/);
  });

  test("uploads (regular, LFS basic, LFS multipart), then downloads into the Python layout", async () => {
    const small = Buffer.from('{"model_type":"gpt2"}');
    const lfs = bytes(300_000, 3);
    const multi = bytes(3_500_000, 4);
    const c = await createCommit({
      ...call,
      repo: "alice/int",
      title: "add files",
      operations: [
        { operation: "add", pathInRepo: "config.json", content: small },
        { operation: "add", pathInRepo: "model.safetensors", content: lfs },
        { operation: "add", pathInRepo: "big/shard.safetensors", content: multi },
      ],
    });
    assert.match(c.commitOid, /^[0-9a-f]{40}$/);
    const tree = [];
    for await (const e of listRepoTree({ ...call, repo: "alice/int", recursive: true })) tree.push(e);
    assert.equal(tree.find((e) => e.path === "model.safetensors")?.lfs?.oid, sha256(lfs));
    assert.equal(tree.find((e) => e.path === "big/shard.safetensors")?.lfs?.oid, sha256(multi));
    for (const [path, data] of [
      ["config.json", small],
      ["model.safetensors", lfs],
      ["big/shard.safetensors", multi],
    ] as const) {
      const p = await hfHubDownload({ ...call, repo: "alice/int", path, cacheDir: cache.dir });
      assert.ok(readFileSync(p).equals(data), path);
      assert.equal(p, join(cache.dir, "models--alice--int", "snapshots", c.commitOid, ...path.split("/")));
    }
    assert.equal(
      readlinkSync(join(cache.dir, "models--alice--int", "snapshots", c.commitOid, "model.safetensors")),
      `../../blobs/${sha256(lfs)}`,
    );
    const dir = await snapshotDownload({ ...call, repo: "alice/int", cacheDir: cache.dir });
    assert.equal(dir, join(cache.dir, "models--alice--int", "snapshots", c.commitOid));
  });

  test("a .incomplete file is resumed with Range against the real server", async () => {
    const t = tmp();
    try {
      const lfs = bytes(300_000, 3);
      const blobs = join(t.dir, "models--alice--int", "blobs");
      mkdirSync(blobs, { recursive: true });
      writeFileSync(join(blobs, `${sha256(lfs)}.incomplete`), lfs.subarray(0, 123_456));
      const p = await hfHubDownload({ ...call, repo: "alice/int", path: "model.safetensors", cacheDir: t.dir });
      assert.ok(readFileSync(p).equals(lfs));
    } finally {
      t.cleanup();
    }
  });

  test("copies, deletions, parentCommit 412, missing files, branches", async () => {
    const head = (await repoInfo({ ...call, repo: "alice/int" })).sha as string;
    await createCommit({
      ...call,
      repo: "alice/int",
      title: "copy and delete",
      parentCommit: head,
      operations: [
        { operation: "copy", srcPathInRepo: "model.safetensors", pathInRepo: "copy.safetensors" },
        { operation: "copy", srcPathInRepo: "config.json", pathInRepo: "config-copy.json" },
        { operation: "delete", pathInRepo: "big", isFolder: true },
      ],
    });
    const info = await getPathsInfo({
      ...call,
      repo: "alice/int",
      paths: ["copy.safetensors", "config-copy.json", "big/shard.safetensors"],
    });
    assert.deepEqual(info.map((e) => e.path).sort(), ["config-copy.json", "copy.safetensors"]);
    await assert.rejects(
      createCommit({
        ...call,
        repo: "alice/int",
        title: "stale",
        parentCommit: head,
        operations: [{ operation: "add", pathInRepo: "x", content: "x" }],
      }),
      (e) => isHubError(e, "HEARTH_HUB_PRECONDITION_FAILED"),
    );
    await assert.rejects(hfHubDownload({ ...call, repo: "alice/int", path: "nope.txt", cacheDir: cache.dir }), (e) =>
      isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND"),
    );
    await assert.rejects(hfHubDownload({ ...call, repo: "alice/none", path: "x", cacheDir: cache.dir }), (e) =>
      isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND"),
    );
    await createBranch({ ...call, repo: "alice/int", branch: "dev" });
    await uploadFile({ ...call, repo: "alice/int", file: { text: "on dev" }, pathInRepo: "dev.txt", revision: "dev" });
    const refs = await listRepoRefs({ ...call, repo: "alice/int" });
    assert.deepEqual(refs.branches.map((b) => b.name).sort(), ["dev", "main"]);
  });

  test("uploadFolder with patterns, then delete the repo", async () => {
    const t = tmp();
    try {
      writeFileSync(join(t.dir, "a.json"), "{}");
      writeFileSync(join(t.dir, "b.tmp"), "x");
      await uploadFolder({
        ...call,
        repo: "alice/int",
        folderPath: t.dir,
        pathInRepo: "folder",
        ignorePatterns: "*.tmp",
      });
      const paths = [];
      for await (const e of listRepoTree({ ...call, repo: "alice/int", path: "folder" })) paths.push(e.path);
      assert.deepEqual(paths, ["folder/a.json"]);
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
    await deleteRepo({ ...call, repo: "alice/int" });
    await assert.rejects(repoInfo({ ...call, repo: "alice/int" }), (e) => isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND"));
  });
});
