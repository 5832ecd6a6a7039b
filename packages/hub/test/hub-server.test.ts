/**
 * The client against the real Hearth hub server (packages/hub-server, fastify + git +
 * SQLite), in-process on a loopback port. Skipped, with a message, in a checkout that does
 * not have that package yet; the same flows run against test/server in the other files.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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
  listRepoCommits,
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

/** Every file under `dir`, relative, `/`-separated, sorted (symlinks count as files). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(join(d, e.name), `${rel}${e.name}/`);
      else out.push(`${rel}${e.name}`);
    }
  };
  visit(dir, "");
  return out.sort();
}

async function treePaths(call: object, repo: string, repoType?: "dataset") {
  const out: { path: string; lfs?: string }[] = [];
  for await (const e of listRepoTree({ ...call, repo, repoType, recursive: true }))
    if (e.type === "file") out.push({ path: e.path, lfs: e.lfs?.oid });
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

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

  test("snapshotDownload of a dataset: allow/ignore patterns, full snapshot, offline cache hit, localDir", async () => {
    const parquet = bytes(320_000, 7);
    const train = Buffer.from('{"text":"a"}\n{"text":"b"}\n');
    await createRepo({ ...call, repo: "alice/ds", repoType: "dataset" });
    const c = await createCommit({
      ...call,
      repo: "alice/ds",
      repoType: "dataset",
      title: "data",
      operations: [
        { operation: "add", pathInRepo: "README.md", content: "---\nlicense: mit\n---\n# ds\n" },
        { operation: "add", pathInRepo: "data/train.jsonl", content: train },
        { operation: "add", pathInRepo: "data/train.parquet", content: parquet },
        { operation: "add", pathInRepo: "notes.tmp", content: "scratch" },
      ],
    });
    const t = tmp();
    try {
      const dir = await snapshotDownload({
        ...call,
        repo: "alice/ds",
        repoType: "dataset",
        cacheDir: t.dir,
        allowPatterns: ["data/*", "README.md"],
        ignorePatterns: "*.parquet",
      });
      const repoDir = join(t.dir, "datasets--alice--ds");
      assert.equal(dir, join(repoDir, "snapshots", c.commitOid));
      assert.deepEqual(filesUnder(dir), ["README.md", "data/train.jsonl"]);
      assert.ok(readFileSync(join(dir, "data/train.jsonl")).equals(train));
      assert.equal(readFileSync(join(repoDir, "refs", "main"), "utf8").trim(), c.commitOid);

      const full = await snapshotDownload({ ...call, repo: "alice/ds", repoType: "dataset", cacheDir: t.dir });
      assert.equal(full, dir);
      assert.deepEqual(
        filesUnder(dir).filter((p) => p !== ".gitattributes"),
        ["README.md", "data/train.jsonl", "data/train.parquet", "notes.tmp"],
      );
      assert.ok(lstatSync(join(dir, "data/train.parquet")).isSymbolicLink());
      assert.equal(readlinkSync(join(dir, "data/train.parquet")), `../../../blobs/${sha256(parquet)}`);
      assert.ok(readFileSync(join(dir, "data/train.parquet")).equals(parquet));

      // Served from the cache alone: no hub needed.
      const offline = await snapshotDownload({
        endpoint: "http://127.0.0.1:9",
        repo: "alice/ds",
        repoType: "dataset",
        cacheDir: t.dir,
        localFilesOnly: true,
        progressBar: false,
      });
      assert.equal(offline, dir);

      const local = join(t.dir, "local");
      const got = await snapshotDownload({
        ...call,
        repo: "alice/ds",
        repoType: "dataset",
        localDir: local,
        allowPatterns: "data/*",
      });
      assert.equal(got, local);
      assert.ok(readFileSync(join(local, "data/train.parquet")).equals(parquet));
      assert.ok(!existsSync(join(local, "notes.tmp")));
    } finally {
      t.cleanup();
    }
  });

  test("createCommit: LFS add + LFS and regular deletions in one commit; a stale parentCommit gets 412 and changes nothing", async () => {
    await createRepo({ ...call, repo: "alice/c" });
    const w1 = bytes(300_000, 11);
    const w2 = bytes(310_000, 12);
    const c1 = await createCommit({
      ...call,
      repo: "alice/c",
      title: "first weights",
      operations: [
        { operation: "add", pathInRepo: "w1.safetensors", content: w1 },
        { operation: "add", pathInRepo: "keep.txt", content: "keep" },
        { operation: "add", pathInRepo: "gone.txt", content: "gone" },
      ],
    });
    const c2 = await createCommit({
      ...call,
      repo: "alice/c",
      title: "swap weights",
      parentCommit: c1.commitOid,
      operations: [
        { operation: "add", pathInRepo: "w2.safetensors", content: w2 },
        { operation: "delete", pathInRepo: "w1.safetensors" },
        { operation: "delete", pathInRepo: "gone.txt" },
      ],
    });
    assert.notEqual(c2.commitOid, c1.commitOid);
    const after2 = (await treePaths(call, "alice/c")).filter((e) => e.path !== ".gitattributes");
    assert.deepEqual(after2, [
      { path: "keep.txt", lfs: undefined },
      { path: "w2.safetensors", lfs: sha256(w2) },
    ]);
    const p = await hfHubDownload({ ...call, repo: "alice/c", path: "w2.safetensors", cacheDir: cache.dir });
    assert.ok(readFileSync(p).equals(w2));
    // The old file is still there at the first commit.
    const old = await hfHubDownload({
      ...call,
      repo: "alice/c",
      path: "w1.safetensors",
      revision: c1.commitOid,
      cacheDir: cache.dir,
    });
    assert.ok(readFileSync(old).equals(w1));

    await assert.rejects(
      createCommit({
        ...call,
        repo: "alice/c",
        title: "stale",
        parentCommit: c1.commitOid,
        operations: [
          { operation: "add", pathInRepo: "w3.safetensors", content: bytes(300_000, 13) },
          { operation: "delete", pathInRepo: "keep.txt" },
        ],
      }),
      (e) => isHubError(e, "HEARTH_HUB_PRECONDITION_FAILED") && (e as { status?: number }).status === 412,
    );
    assert.equal((await repoInfo({ ...call, repo: "alice/c" })).sha, c2.commitOid, "the branch did not move");
    assert.deepEqual(
      (await treePaths(call, "alice/c")).filter((e) => e.path !== ".gitattributes"),
      after2,
    );
    const titles = [];
    for await (const commit of listRepoCommits({ ...call, repo: "alice/c" })) titles.push(commit.title);
    assert.deepEqual(titles.slice(0, 2), ["swap weights", "first weights"]);
    assert.ok(!titles.includes("stale"));
  });

  test("uploadFolder: nested folders, an LFS file, ignored .git, then a re-upload with deletePatterns", async () => {
    await createRepo({ ...call, repo: "alice/f" });
    const t = tmp();
    try {
      const w = bytes(300_000, 21);
      mkdirSync(join(t.dir, "sub", "deep"), { recursive: true });
      mkdirSync(join(t.dir, ".git"));
      writeFileSync(join(t.dir, ".git", "HEAD"), "ref: refs/heads/main\n");
      writeFileSync(join(t.dir, "sub", "a.txt"), "a");
      writeFileSync(join(t.dir, "sub", "deep", "w.safetensors"), w);
      writeFileSync(join(t.dir, "run.log"), "log");
      await uploadFolder({ ...call, repo: "alice/f", folderPath: t.dir, ignorePatterns: "*.log" });
      assert.deepEqual(
        (await treePaths(call, "alice/f")).filter((e) => e.path !== ".gitattributes"),
        [
          { path: "sub/a.txt", lfs: undefined },
          { path: "sub/deep/w.safetensors", lfs: sha256(w) },
        ],
      );
      rmSync(join(t.dir, "sub", "a.txt"));
      writeFileSync(join(t.dir, "sub", "b.txt"), "b");
      await uploadFolder({
        ...call,
        repo: "alice/f",
        folderPath: t.dir,
        ignorePatterns: "*.log",
        deletePatterns: "*.txt",
        title: "replace a by b",
      });
      assert.deepEqual(
        (await treePaths(call, "alice/f")).filter((e) => e.path !== ".gitattributes").map((e) => e.path),
        ["sub/b.txt", "sub/deep/w.safetensors"],
      );
      const dir = await snapshotDownload({ ...call, repo: "alice/f", cacheDir: cache.dir });
      assert.ok(readFileSync(join(dir, "sub/deep/w.safetensors")).equals(w));
      assert.equal(readFileSync(join(dir, "sub/b.txt"), "utf8"), "b");
    } finally {
      t.cleanup();
    }
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
