import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createBranch,
  createCommit,
  createRepo,
  createTag,
  deleteBranch,
  deleteRepo,
  deleteTag,
  getPathsInfo,
  hfHubDownload,
  isHubError,
  listRepoCommits,
  listRepoRefs,
  listRepos,
  listRepoTree,
  repoInfo,
  uploadFile,
  uploadFolder,
} from "../src/index.ts";
import { TIMING_CHANNEL } from "../src/utils/timing.ts";
import { bytes, hubWithUser, TOKEN, tmp, withEnv } from "./helpers.ts";
import type { TestHub } from "./server/index.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe("repos, commits and uploads against the test hub", () => {
  let hub: TestHub;
  let call: { endpoint: string; accessToken: string; progressBar: false };
  before(async () => {
    hub = await hubWithUser({
      lfsThreshold: 100_000,
      multipartThreshold: 1_500_000,
      multipartChunkSize: 1_000_000,
      pageSize: 2,
    });
    call = { endpoint: hub.url, accessToken: TOKEN, progressBar: false };
  });
  after(() => hub.close());

  test("create, info, list (paginated), delete; 409 and 404 honoured with existOk/missingOk", async () => {
    const { url } = await createRepo({ ...call, repo: "alice/r1" });
    assert.equal(url, `${hub.url}/alice/r1`);
    await createRepo({ ...call, repo: "alice/r2" });
    await createRepo({ ...call, repo: "alice/r4" });
    await createRepo({ ...call, repo: "team/r3", private: true });
    await createRepo({ ...call, repo: "alice/d1", repoType: "dataset" });
    await assert.rejects(createRepo({ ...call, repo: "alice/r1" }), (e) => isHubError(e, "HEARTH_HUB_CONFLICT"));
    await createRepo({ ...call, repo: "alice/r1", existOk: true });
    await assert.rejects(createRepo({ ...call, accessToken: "hf_read_only", repo: "bob/x" }), (e) =>
      isHubError(e, "HEARTH_HUB_FORBIDDEN"),
    );
    const info = await repoInfo({ ...call, repo: "alice/r1" });
    assert.equal(info.id, "alice/r1");
    assert.match(info.sha ?? "", /^[0-9a-f]{40}$/);
    assert.deepEqual(
      info.siblings?.map((s) => s.rfilename),
      [".gitattributes"],
    );
    const names = (await collect(listRepos({ ...call, author: "alice" }))).map((r) => r.id).sort();
    assert.deepEqual(names, ["alice/r1", "alice/r2", "alice/r4"]);
    assert.ok(hub.log.filter((r) => r.path === "/api/models").length >= 2, "followed the Link header");
    assert.equal((await collect(listRepos({ ...call, author: "alice", limit: 1 }))).length, 1);
    const ds = await repoInfo({ ...call, repo: "datasets/alice/d1" });
    assert.equal(ds.type, "dataset");
    await assert.rejects(repoInfo({ ...call, accessToken: false, repo: "team/r3" }), (e) =>
      isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND"),
    );
    await deleteRepo({ ...call, repo: "alice/r2" });
    await assert.rejects(repoInfo({ ...call, repo: "alice/r2" }), (e) => isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND"));
    await deleteRepo({ ...call, repo: "alice/r2", missingOk: true });
    await assert.rejects(deleteRepo({ ...call, repo: "alice/r2" }), (e) => isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND"));
  });

  test("uploadFile: small files go regular, large ones through LFS basic; no token on the upload URL", async () => {
    await createRepo({ ...call, repo: "alice/up" });
    const t = tmp();
    try {
      const big = bytes(300_000, 5);
      writeFileSync(join(t.dir, "weights.bin"), big);
      await uploadFile({ ...call, repo: "alice/up", file: { text: "hello\n" }, pathInRepo: "README.md" });
      const mark = hub.log.length;
      const res = await uploadFile({
        ...call,
        repo: "alice/up",
        file: join(t.dir, "weights.bin"),
        pathInRepo: "w/weights.bin",
      });
      assert.match(res.commitOid, /^[0-9a-f]{40}$/);
      const puts = hub.log.slice(mark).filter((r) => r.method === "PUT");
      assert.equal(puts.length, 1);
      assert.equal(puts[0].auth, undefined, "upload hrefs authorise themselves");
      const tree = await collect(listRepoTree({ ...call, repo: "alice/up", recursive: true }));
      const w = tree.find((e) => e.path === "w/weights.bin");
      assert.equal(w?.lfs?.oid, sha256(big));
      assert.equal(w?.size, big.length);
      assert.equal(tree.find((e) => e.path === "README.md")?.lfs, undefined);
      assert.ok(tree.some((e) => e.type === "directory" && e.path === "w"));
      const back = await hfHubDownload({
        ...call,
        repo: "alice/up",
        path: "w/weights.bin",
        cacheDir: join(t.dir, "cache"),
      });
      assert.ok(readFileSync(back).equals(big));
      const top = await collect(listRepoTree({ ...call, repo: "alice/up" }));
      assert.deepEqual(top.map((e) => e.path).sort(), [".gitattributes", "README.md", "w"]);
      const sub = await collect(listRepoTree({ ...call, repo: "alice/up", path: "w" }));
      assert.deepEqual(
        sub.map((e) => e.path),
        ["w/weights.bin"],
      );
    } finally {
      t.cleanup();
    }
  });

  test("LFS multipart: parts PUT without auth, completion POST, bytes intact (memory and local file)", async () => {
    await createRepo({ ...call, repo: "alice/mp" });
    const t = tmp();
    try {
      // In memory (node:http PUTs), then from a local file (bare-socket PUTs of file ranges).
      const data = bytes(2_500_000, 9);
      const onDisk = bytes(2_700_000, 19);
      writeFileSync(join(t.dir, "disk.bin"), onDisk);
      for (const [file, pathInRepo, expected] of [
        [data, "big.safetensors", data],
        [join(t.dir, "disk.bin"), "disk.safetensors", onDisk],
      ] as const) {
        const mark = hub.log.length;
        await uploadFile({ ...call, repo: "alice/mp", file, pathInRepo });
        const partPuts = hub.log.slice(mark).filter((r) => r.method === "PUT" && r.path.includes("/part/"));
        assert.equal(partPuts.length, 3);
        assert.ok(partPuts.every((p) => p.auth === undefined));
        const completions = hub.log.slice(mark).filter((r) => r.method === "POST" && r.path.startsWith("/lfs-upload/"));
        assert.equal(completions.length, 1);
        const back = await hfHubDownload({ ...call, repo: "alice/mp", path: pathInRepo, cacheDir: join(t.dir, "c") });
        assert.ok(readFileSync(back).equals(expected));
      }
    } finally {
      t.cleanup();
    }
  });

  test("with an injected fetch, LFS uploads (basic and multipart) go through it", async () => {
    await createRepo({ ...call, repo: "alice/viafetch" });
    const seen: string[] = [];
    const counting = ((input: string | URL | Request, init?: RequestInit) => {
      seen.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
      return fetch(input, init);
    }) as typeof fetch;
    const t = tmp();
    try {
      const small = bytes(200_000, 31);
      const big = bytes(2_200_000, 32);
      writeFileSync(join(t.dir, "big.bin"), big);
      await uploadFile({ ...call, fetch: counting, repo: "alice/viafetch", file: small, pathInRepo: "s.bin" });
      await uploadFile({
        ...call,
        fetch: counting,
        repo: "alice/viafetch",
        file: join(t.dir, "big.bin"),
        pathInRepo: "b.bin",
      });
      assert.equal(seen.filter((s) => s === `PUT /lfs-upload/${sha256(small)}`).length, 1);
      assert.equal(seen.filter((s) => s.startsWith(`PUT /lfs-upload/${sha256(big)}/part/`)).length, 3);
      const back = await hfHubDownload({ ...call, repo: "alice/viafetch", path: "b.bin", cacheDir: join(t.dir, "c") });
      assert.ok(readFileSync(back).equals(big));
    } finally {
      t.cleanup();
    }
  });

  test("createCommit: additions, deletions, copies (regular and LFS), parentCommit and 412", async () => {
    await createRepo({ ...call, repo: "alice/cc" });
    const lfsData = bytes(150_000, 4);
    const first = await createCommit({
      ...call,
      repo: "alice/cc",
      title: "first",
      operations: [
        { operation: "add", pathInRepo: "a.txt", content: "A" },
        { operation: "add", pathInRepo: "dir/b.txt", content: "B" },
        { operation: "add", pathInRepo: "dir/c.txt", content: "C" },
        { operation: "add", pathInRepo: "m.safetensors", content: lfsData },
      ],
    });
    const mark = hub.log.length;
    const second = await createCommit({
      ...call,
      repo: "alice/cc",
      title: "second",
      parentCommit: first.commitOid,
      operations: [
        { operation: "delete", pathInRepo: "dir", isFolder: true },
        { operation: "copy", srcPathInRepo: "a.txt", pathInRepo: "a-copy.txt" },
        { operation: "copy", srcPathInRepo: "m.safetensors", pathInRepo: "m-copy.safetensors" },
        { operation: "delete", pathInRepo: "a.txt" },
      ],
    });
    assert.equal(hub.log.slice(mark).filter((r) => r.method === "PUT").length, 0, "an LFS copy moves no bytes");
    const files = (await collect(listRepoTree({ ...call, repo: "alice/cc", recursive: true })))
      .map((e) => e.path)
      .sort();
    assert.deepEqual(files, [".gitattributes", "a-copy.txt", "m-copy.safetensors", "m.safetensors"]);
    const [copy] = await getPathsInfo({
      ...call,
      repo: "alice/cc",
      paths: ["m-copy.safetensors", "missing"],
      expand: true,
    });
    assert.equal(copy.lfs?.oid, sha256(lfsData));
    assert.equal(copy.lastCommit?.id, second.commitOid);
    await assert.rejects(
      createCommit({
        ...call,
        repo: "alice/cc",
        title: "stale",
        parentCommit: first.commitOid,
        operations: [{ operation: "add", pathInRepo: "z", content: "z" }],
      }),
      (e) => isHubError(e, "HEARTH_HUB_PRECONDITION_FAILED") && e.status === 412,
    );
    await assert.rejects(
      createCommit({
        ...call,
        repo: "alice/cc",
        title: "x",
        operations: [{ operation: "delete", pathInRepo: "nope.txt" }],
      }),
      (e) => isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND"),
    );
    const history = await collect(listRepoCommits({ ...call, repo: "alice/cc" }));
    assert.deepEqual(
      history.slice(0, 2).map((c) => c.title),
      ["second", "first"],
    );
  });

  test("re-uploading unchanged content makes no commit", async () => {
    await createRepo({ ...call, repo: "alice/same" });
    const data = bytes(120_000, 2);
    const one = await uploadFile({ ...call, repo: "alice/same", file: data, pathInRepo: "x.bin" });
    await uploadFile({ ...call, repo: "alice/same", file: { text: "t" }, pathInRepo: "t.txt" });
    const head = (await repoInfo({ ...call, repo: "alice/same" })).sha;
    const mark = hub.log.length;
    const again = await createCommit({
      ...call,
      repo: "alice/same",
      title: "noop",
      operations: [
        { operation: "add", pathInRepo: "x.bin", content: data },
        { operation: "add", pathInRepo: "t.txt", content: "t" },
      ],
    });
    assert.equal(again.commitOid, head);
    assert.notEqual(one.commitOid, head);
    assert.equal(hub.log.slice(mark).filter((r) => r.path.includes("/commit/")).length, 0);
  });

  test("uploadFolder: allow/ignore patterns, .git never sent, deletePatterns", async () => {
    await createRepo({ ...call, repo: "alice/folder" });
    const t = tmp();
    try {
      const f = (p: string, c: string | Buffer) => {
        mkdirSync(join(t.dir, p, ".."), { recursive: true });
        writeFileSync(join(t.dir, p), c);
      };
      f("config.json", "{}");
      f("model.safetensors", bytes(130_000, 8));
      f("logs/run.txt", "log");
      f("notes.tmp", "tmp");
      f(".git/HEAD", "ref: refs/heads/main");
      f("sub/deep/x.json", "[]");
      await uploadFolder({ ...call, repo: "alice/folder", folderPath: t.dir, ignorePatterns: ["*.tmp", "logs/"] });
      let paths = (await collect(listRepoTree({ ...call, repo: "alice/folder", recursive: true })))
        .filter((e) => e.type === "file")
        .map((e) => e.path)
        .sort();
      assert.deepEqual(paths, [".gitattributes", "config.json", "model.safetensors", "sub/deep/x.json"]);
      await uploadFolder({
        ...call,
        repo: "alice/folder",
        folderPath: join(t.dir, "logs"),
        pathInRepo: "logs",
        allowPatterns: "*.txt",
      });
      await uploadFolder({
        ...call,
        repo: "alice/folder",
        folderPath: t.dir,
        allowPatterns: ["config.json"],
        deletePatterns: ["*.json"],
      });
      paths = (await collect(listRepoTree({ ...call, repo: "alice/folder", recursive: true })))
        .filter((e) => e.type === "file")
        .map((e) => e.path)
        .sort();
      assert.deepEqual(paths, [".gitattributes", "config.json", "logs/run.txt", "model.safetensors"]);
    } finally {
      t.cleanup();
    }
  });

  test("uploadFolder: each LFS file goes to the batch API as soon as it is hashed, the PUTs overlap the hashing, and the sha256 phases are published", async () => {
    await createRepo({ ...call, repo: "alice/pipeline" });
    const t = tmp();
    const phases: { phase: string; path?: string }[] = [];
    const onTiming = (m: unknown) => phases.push(m as { phase: string; path?: string });
    subscribe(TIMING_CHANNEL, onTiming);
    try {
      const files = [1, 2, 3, 4].map((k) => bytes(130_000 + k, 20 + k));
      for (const [k, b] of files.entries()) writeFileSync(join(t.dir, `w${k}.safetensors`), b);
      const mark = hub.log.length;
      await uploadFolder({ ...call, repo: "alice/pipeline", folderPath: t.dir });
      const uploadPhases = [...phases];
      const calls = hub.log.slice(mark);
      const batches = calls.filter((r) => r.path.endsWith("/info/lfs/objects/batch"));
      // The first file is asked about alone, before the second is hashed: at least two batch calls.
      assert.ok(batches.length >= 2, `expected the batch calls to follow the hashing, got ${batches.length}`);
      assert.equal(calls.filter((r) => r.method === "PUT").length, 4);
      for (const [k, b] of files.entries()) {
        const p = await hfHubDownload({ ...call, repo: "alice/pipeline", path: `w${k}.safetensors`, cacheDir: t.dir });
        assert.ok(readFileSync(p).equals(b));
      }
      // Each file hashed once; the first file's batch call is published before the last hash.
      const hashes = uploadPhases.filter((p) => p.phase === "sha256");
      assert.deepEqual(
        hashes.map((p) => p.path).sort(),
        [0, 1, 2, 3].map((k) => `w${k}.safetensors`),
      );
      const order = uploadPhases.map((p) => p.phase);
      assert.ok(order.indexOf("lfs-batch") < order.lastIndexOf("sha256"), order.join(" "));
      assert.equal(order.at(-1), "commit");
    } finally {
      unsubscribe(TIMING_CHANNEL, onTiming);
      t.cleanup();
    }
  });

  test("a failed LFS PUT fails the whole upload: the coded error, and no commit", async () => {
    await createRepo({ ...call, repo: "alice/put-fails" });
    const t = tmp();
    try {
      for (const k of [1, 2, 3]) writeFileSync(join(t.dir, `w${k}.bin`), bytes(120_000 + k, 40 + k));
      hub.faults.failLfsPuts = 1;
      const mark = hub.log.length;
      await assert.rejects(
        uploadFolder({ ...call, repo: "alice/put-fails", folderPath: t.dir }),
        (e) => isHubError(e) && e.status === 500,
      );
      assert.equal(hub.log.slice(mark).filter((r) => r.path.includes("/commit/")).length, 0);
    } finally {
      hub.faults.failLfsPuts = 0;
      t.cleanup();
    }
  });

  test("a PUT that fails while the next batch call is in flight still ends the upload with its error", async () => {
    await createRepo({ ...call, repo: "alice/put-fails-mid-batch" });
    const t = tmp();
    try {
      for (const k of [1, 2]) writeFileSync(join(t.dir, `w${k}.bin`), bytes(120_000 + k, 60 + k));
      // The first file's PUT fails at once; the second file's batch answer comes after that.
      hub.faults.failLfsPuts = 1;
      hub.faults.lfsBatchDelays = [0, 300];
      const upload = uploadFolder({ ...call, repo: "alice/put-fails-mid-batch", folderPath: t.dir });
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error("uploadFolder hung")), 5000));
      await assert.rejects(Promise.race([upload, timeout]), (e) => isHubError(e) && e.status === 500);
    } finally {
      hub.faults.failLfsPuts = 0;
      hub.faults.lfsBatchDelays = undefined;
      t.cleanup();
    }
  });

  test("branches and tags: create, list, commit to a branch, delete", async () => {
    await createRepo({ ...call, repo: "alice/refs" });
    await createBranch({ ...call, repo: "alice/refs", branch: "dev" });
    await assert.rejects(createBranch({ ...call, repo: "alice/refs", branch: "dev" }), (e) =>
      isHubError(e, "HEARTH_HUB_CONFLICT"),
    );
    await createBranch({ ...call, repo: "alice/refs", branch: "dev", existOk: true });
    const c = await uploadFile({
      ...call,
      repo: "alice/refs",
      file: { text: "dev only" },
      pathInRepo: "dev.txt",
      revision: "dev",
    });
    await createTag({ ...call, repo: "alice/refs", tag: "v1", revision: "dev" });
    const refs = await listRepoRefs({ ...call, repo: "alice/refs" });
    assert.deepEqual(refs.branches.map((b) => b.name).sort(), ["dev", "main"]);
    assert.deepEqual(refs.tags, [{ name: "v1", ref: "refs/tags/v1", targetCommit: c.commitOid }]);
    assert.deepEqual(refs.converts, []);
    const t = tmp();
    try {
      const p = await hfHubDownload({ ...call, repo: "alice/refs", path: "dev.txt", revision: "v1", cacheDir: t.dir });
      assert.equal(readFileSync(p, "utf8"), "dev only");
      assert.equal(readFileSync(join(t.dir, "models--alice--refs", "refs", "v1"), "utf8"), c.commitOid);
    } finally {
      t.cleanup();
    }
    await deleteTag({ ...call, repo: "alice/refs", tag: "v1" });
    await deleteBranch({ ...call, repo: "alice/refs", branch: "dev" });
    const after = await listRepoRefs({ ...call, repo: "alice/refs" });
    assert.deepEqual(
      after.branches.map((b) => b.name),
      ["main"],
    );
    assert.deepEqual(after.tags, []);
  });

  test("listings retry 429 (Retry-After) and 503 like huggingface_hub; writes do not", async () => {
    await createRepo({ ...call, repo: "alice/retry" });
    hub.faults.failApi = { status: 429, count: 1 };
    const mark = hub.log.length;
    assert.equal((await repoInfo({ ...call, repo: "alice/retry" })).id, "alice/retry");
    assert.equal(hub.log.length - mark, 2);
    hub.faults.failApi = { status: 503, count: 2 };
    const tree = await collect(listRepoTree({ ...call, repo: "alice/retry" }));
    assert.deepEqual(
      tree.map((e) => e.path),
      [".gitattributes"],
    );
    hub.faults.failApi = { status: 503, count: 1 };
    await assert.rejects(
      createRepo({ ...call, repo: "alice/retry2" }),
      (e) => isHubError(e, "HEARTH_HUB_HTTP") && e.status === 503,
    );
    hub.faults.failApi = undefined;
  });

  test("HF_HUB_OFFLINE forbids every network call", async () => {
    await withEnv({ HF_HUB_OFFLINE: "1" }, async () => {
      const mark = hub.log.length;
      await assert.rejects(repoInfo({ ...call, repo: "alice/r1" }), (e) => isHubError(e, "HEARTH_HUB_OFFLINE"));
      await assert.rejects(createRepo({ ...call, repo: "alice/off" }), (e) => isHubError(e, "HEARTH_HUB_OFFLINE"));
      assert.equal(hub.log.length, mark);
    });
  });

  test("writes need a token", async () => {
    await assert.rejects(
      createRepo({ endpoint: hub.url, accessToken: false, repo: "alice/nt" }),
      (e) => isHubError(e, "HEARTH_HUB_NOT_LOGGED_IN") && /hearth login/.test(e.message),
    );
  });
});
