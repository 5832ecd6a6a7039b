import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { CACHED_NO_EXIST, hfHubDownload, isHubError, snapshotDownload, tryToLoadFromCache } from "../src/index.ts";
import { bytes, hubWithUser, TOKEN, tmp, withEnv } from "./helpers.ts";
import type { TestHub } from "./server/index.ts";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const gitSha1 = (b: Buffer) => createHash("sha1").update(`blob ${b.length}\0`).update(b).digest("hex");

describe("hfHubDownload against the test hub", () => {
  let hub: TestHub;
  let commit: string;
  const config = Buffer.from('{"model_type":"llama"}\n');
  const weights = bytes(1_000_000, 7);
  const nested = Buffer.from("nested file\n");
  before(async () => {
    hub = await hubWithUser({ pageSize: 2 });
    commit = await hub.seed({
      repo: "org/tiny",
      files: {
        "config.json": config,
        "model.safetensors": weights,
        "sub/dir/notes.txt": nested,
        "extra.bin": bytes(1000, 3),
      },
    });
  });
  after(() => hub.close());

  const opts = (cacheDir: string) => ({
    repo: "org/tiny",
    endpoint: hub.url,
    accessToken: TOKEN,
    cacheDir,
    progressBar: false,
  });

  test("writes the Python cache layout: blobs by etag, relative snapshot links, refs/main", async () => {
    const t = tmp();
    try {
      const p = await hfHubDownload({ ...opts(t.dir), path: "config.json" });
      const repoDir = join(t.dir, "models--org--tiny");
      assert.equal(p, join(repoDir, "snapshots", commit, "config.json"));
      assert.equal(readlinkSync(p), `../../blobs/${gitSha1(config)}`);
      assert.deepEqual(readFileSync(p), config);
      assert.equal(readFileSync(join(repoDir, "refs", "main"), "utf8"), commit);
      const deep = await hfHubDownload({ ...opts(t.dir), path: "sub/dir/notes.txt" });
      assert.equal(readlinkSync(deep), `../../../../blobs/${gitSha1(nested)}`);
      const lfs = await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
      assert.equal(readlinkSync(lfs), `../../blobs/${sha256(weights)}`);
      assert.ok(readFileSync(lfs).equals(weights));
      assert.ok(existsSync(join(t.dir, "CACHEDIR.TAG")));
      assert.deepEqual(
        readdirSync(join(repoDir, "blobs")).filter((n) => n.includes(".incomplete")),
        [],
      );
    } finally {
      t.cleanup();
    }
  });

  test("a second download is a cache hit: HEAD only for a branch, nothing at all for a commit hash", async () => {
    const t = tmp();
    try {
      await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
      const before = hub.log.length;
      await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
      assert.deepEqual(
        hub.log.slice(before).map((r) => r.method),
        ["HEAD"],
      );
      const failingFetch = (() => {
        throw new Error("network must not be used");
      }) as unknown as typeof fetch;
      const p = await hfHubDownload({
        ...opts(t.dir),
        path: "model.safetensors",
        revision: commit,
        fetch: failingFetch,
      });
      assert.ok(readFileSync(p).equals(weights));
    } finally {
      t.cleanup();
    }
  });

  test("an interrupted download resumes with Range and yields the right bytes", async () => {
    const t = tmp();
    try {
      hub.faults.cutNextDownloadAfter = 300_000;
      const before = hub.log.length;
      const p = await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
      assert.ok(readFileSync(p).equals(weights));
      const gets = hub.log.slice(before).filter((r) => r.method === "GET" && r.path.startsWith("/lfs-storage/"));
      assert.equal(gets.length, 2);
      assert.equal(gets[0].range, undefined);
      assert.equal(gets[1].range, "bytes=300000-");
    } finally {
      t.cleanup();
    }
  });

  test("a stalled download is aborted after HF_HUB_DOWNLOAD_TIMEOUT and resumed; a slow HEAD falls back to the cache", async () => {
    const t = tmp();
    try {
      await withEnv({ HF_HUB_DOWNLOAD_TIMEOUT: "0.3", HF_HUB_ETAG_TIMEOUT: "0.3" }, async () => {
        hub.faults.stallNextDownloadAfter = 250_000;
        const before = hub.log.length;
        const p = await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
        assert.ok(readFileSync(p).equals(weights));
        const ranges = hub.log
          .slice(before)
          .filter((r) => r.method === "GET")
          .map((r) => r.range);
        assert.deepEqual(ranges, [undefined, "bytes=250000-"]);
        hub.faults.slowHeadMs = 1500;
        try {
          assert.equal(await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" }), p, "served from the cache");
          await assert.rejects(
            hfHubDownload({ ...opts(t.dir), path: "config.json" }),
            (e) => isHubError(e, "HEARTH_HUB_NETWORK") && /no answer in time/.test(e.message),
          );
        } finally {
          hub.faults.slowHeadMs = undefined;
        }
      });
    } finally {
      t.cleanup();
    }
  });

  test("with an injected fetch every request goes through it, resume included", async () => {
    const t = tmp();
    try {
      const seen: string[] = [];
      const counting = ((input: string | URL | Request, init?: RequestInit) => {
        seen.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
        return fetch(input, init);
      }) as typeof fetch;
      hub.faults.cutNextDownloadAfter = 200_000;
      const p = await hfHubDownload({ ...opts(t.dir), path: "model.safetensors", fetch: counting });
      assert.ok(readFileSync(p).equals(weights));
      const storage = `/lfs-storage/${sha256(weights)}`;
      assert.deepEqual(seen, ["HEAD /org/tiny/resolve/main/model.safetensors", `GET ${storage}`, `GET ${storage}`]);
    } finally {
      t.cleanup();
    }
  });

  test("a .incomplete file left by an earlier process is resumed, not restarted", async () => {
    const t = tmp();
    try {
      const blobs = join(t.dir, "models--org--tiny", "blobs");
      mkdirSync(blobs, { recursive: true });
      writeFileSync(join(blobs, `${sha256(weights)}.incomplete`), weights.subarray(0, 400_000));
      const before = hub.log.length;
      const p = await hfHubDownload({ ...opts(t.dir), path: "model.safetensors" });
      assert.ok(readFileSync(p).equals(weights));
      const gets = hub.log.slice(before).filter((r) => r.method === "GET");
      assert.deepEqual(
        gets.map((g) => g.range),
        ["bytes=400000-"],
      );
    } finally {
      t.cleanup();
    }
  });

  test("a tampered LFS object is rejected and leaves nothing in the cache", async () => {
    const t = tmp();
    const data = bytes(200_000, 11);
    await hub.seed({ repo: "org/tampered", files: { "w.safetensors": data } });
    const stored = hub.state.lfsPath(sha256(data));
    const bad = Buffer.from(data);
    bad[12345] ^= 0xff; // same size, different bytes
    writeFileSync(stored, bad);
    try {
      await assert.rejects(
        hfHubDownload({ ...opts(t.dir), repo: "org/tampered", path: "w.safetensors" }),
        (err) => isHubError(err, "HEARTH_HUB_CHECKSUM_MISMATCH") && err.message.includes(sha256(data)),
      );
      const repoDir = join(t.dir, "models--org--tampered");
      assert.deepEqual(readdirSync(join(repoDir, "blobs")), []);
      assert.equal(existsSync(join(repoDir, "snapshots")), false);
    } finally {
      writeFileSync(stored, data);
      t.cleanup();
    }
  });

  test("a large file (many 1 MiB socket reads) is verified across a resume, and tampering is caught, hashed inline, on the native thread or on a node Worker", async () => {
    const big = bytes(17 * 1024 * 1024, 5); // many socket reads; HEARTH_HUB_HASH_THREAD picks the thread whatever the size
    await hub.seed({ repo: "org/big", files: { "big.safetensors": big } });
    const stored = hub.state.lfsPath(sha256(big));
    // "worker": the native hash thread where built; "worker-js": the node Worker it falls back to.
    for (const mode of ["inline", "worker", "worker-js"]) {
      const t = tmp();
      try {
        const env = {
          HEARTH_HUB_HASH_THREAD: mode === "inline" ? "inline" : "worker",
          HEARTH_HUB_NATIVE_HASH: mode === "worker-js" ? "0" : undefined,
        };
        await withEnv(env, async () => {
          hub.faults.cutNextDownloadAfter = 5_000_000;
          const p = await hfHubDownload({ ...opts(t.dir), repo: "org/big", path: "big.safetensors" });
          assert.ok(readFileSync(p).equals(big), mode);
          const bad = Buffer.from(big);
          bad[big.length - 1] ^= 1;
          writeFileSync(stored, bad);
          await assert.rejects(
            hfHubDownload({ ...opts(t.dir), repo: "org/big", path: "big.safetensors", forceDownload: true }),
            (e) => isHubError(e, "HEARTH_HUB_CHECKSUM_MISMATCH"),
          );
          // A prefix from an earlier run is hashed too (the worker hashes it from disk first).
          const blobs = join(t.dir, "models--org--big", "blobs");
          writeFileSync(join(blobs, `${sha256(big)}.incomplete`), bad.subarray(0, 3_000_000));
          writeFileSync(stored, big);
          const again = await hfHubDownload({
            ...opts(t.dir),
            repo: "org/big",
            path: "big.safetensors",
            forceDownload: true,
          });
          assert.ok(readFileSync(again).equals(big), `${mode}: a good prefix resumes to the right bytes`);
        });
      } finally {
        writeFileSync(stored, big);
        t.cleanup();
      }
    }
  });

  test("EntryNotFound writes a .no_exist marker that later answers offline", async () => {
    const t = tmp();
    try {
      await assert.rejects(hfHubDownload({ ...opts(t.dir), path: "tokenizer.json" }), (e) =>
        isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND"),
      );
      const marker = join(t.dir, "models--org--tiny", ".no_exist", commit, "tokenizer.json");
      assert.equal(lstatSync(marker).size, 0);
      assert.equal(tryToLoadFromCache({ repo: "org/tiny", path: "tokenizer.json", cacheDir: t.dir }), CACHED_NO_EXIST);
      await assert.rejects(hfHubDownload({ ...opts(t.dir), path: "tokenizer.json", localFilesOnly: true }), (e) =>
        isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND"),
      );
    } finally {
      t.cleanup();
    }
  });

  test("offline mode serves the cache and fails clearly for what is missing", async () => {
    const t = tmp();
    try {
      await hfHubDownload({ ...opts(t.dir), path: "config.json" });
      await withEnv({ HF_HUB_OFFLINE: "1" }, async () => {
        const before = hub.log.length;
        const p = await hfHubDownload({ ...opts(t.dir), path: "config.json" });
        assert.deepEqual(readFileSync(p), config);
        await assert.rejects(
          hfHubDownload({ ...opts(t.dir), path: "model.safetensors" }),
          (e) => isHubError(e, "HEARTH_HUB_OFFLINE_NOT_CACHED") && /HF_HUB_OFFLINE/.test(e.message),
        );
        assert.equal(hub.log.length, before, "offline mode made a request");
      });
    } finally {
      t.cleanup();
    }
  });

  test("hub errors map to coded errors", async () => {
    const t = tmp();
    try {
      await assert.rejects(
        hfHubDownload({ ...opts(t.dir), repo: "org/nope", path: "x" }),
        (e) => isHubError(e, "HEARTH_HUB_REPO_NOT_FOUND") && e.status === 404,
      );
      await assert.rejects(hfHubDownload({ ...opts(t.dir), path: "config.json", revision: "v9" }), (e) =>
        isHubError(e, "HEARTH_HUB_REVISION_NOT_FOUND"),
      );
      await assert.rejects(hfHubDownload({ ...opts(t.dir), path: "../etc/passwd" }), (e) =>
        isHubError(e, "HEARTH_HUB_INVALID_ARGUMENT"),
      );
      await assert.rejects(hfHubDownload({ ...opts(t.dir), accessToken: "hf_wrong", path: "config.json" }), (e) =>
        isHubError(e, "HEARTH_HUB_UNAUTHORIZED"),
      );
    } finally {
      t.cleanup();
    }
  });

  test("headers that would steer cache paths outside the cache are refused (injected fetch)", async () => {
    const t = tmp();
    try {
      const evil = (async () =>
        new Response(null, {
          status: 200,
          headers: { "x-repo-commit": "a".repeat(40), etag: '"../../../../tmp/pwned"', "content-length": "3" },
        })) as unknown as typeof fetch;
      await assert.rejects(hfHubDownload({ ...opts(t.dir), path: "config.json", fetch: evil }), (e) =>
        isHubError(e, "HEARTH_HUB_BAD_RESPONSE"),
      );
      const noCommit = (async () =>
        new Response(null, {
          status: 200,
          headers: { etag: '"abc"', "content-length": "3" },
        })) as unknown as typeof fetch;
      await assert.rejects(
        hfHubDownload({ ...opts(t.dir), path: "config.json", fetch: noCommit }),
        (e) => isHubError(e, "HEARTH_HUB_BAD_RESPONSE") && /X-Repo-Commit/.test(e.message),
      );
    } finally {
      t.cleanup();
    }
  });

  test("when the hub is unreachable a cached file is still served", async () => {
    const t = tmp();
    try {
      await hfHubDownload({ ...opts(t.dir), path: "config.json" });
      const p = await hfHubDownload({ ...opts(t.dir), endpoint: "http://127.0.0.1:1", path: "config.json" });
      assert.deepEqual(readFileSync(p), config);
      await assert.rejects(hfHubDownload({ ...opts(t.dir), endpoint: "http://127.0.0.1:1", path: "extra.bin" }), (e) =>
        isHubError(e, "HEARTH_HUB_NETWORK"),
      );
    } finally {
      t.cleanup();
    }
  });

  test("localDir: Python's layout (.cache/huggingface/download/*.metadata), reuse, sha256 adoption, cache copy", async () => {
    const t = tmp();
    try {
      const local = join(t.dir, "out");
      const p = await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "sub/dir/notes.txt", localDir: local });
      assert.equal(p, join(local, "sub", "dir", "notes.txt"));
      assert.ok(readFileSync(p).equals(nested));
      const meta = readFileSync(join(local, ".cache/huggingface/download/sub/dir/notes.txt.metadata"), "utf8").split(
        "\n",
      );
      assert.deepEqual(meta.slice(0, 2), [commit, gitSha1(nested)]);
      assert.ok(Math.abs(Number(meta[2]) - Date.now() / 1000) < 60);
      assert.equal(readFileSync(join(local, ".cache/huggingface/.gitignore"), "utf8"), "*");
      let mark = hub.log.length;
      await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "sub/dir/notes.txt", localDir: local });
      assert.deepEqual(
        hub.log.slice(mark).map((r) => r.method),
        ["HEAD"],
        "same etag: nothing downloaded",
      );
      mark = hub.log.length;
      await hfHubDownload({
        ...opts(join(t.dir, "cache")),
        path: "sub/dir/notes.txt",
        localDir: local,
        revision: commit,
      });
      assert.equal(hub.log.length, mark, "a commit hash the metadata already names: no network");
      // An LFS file placed by hand, without metadata, is adopted when its sha256 is the etag.
      writeFileSync(join(local, "model.safetensors"), weights);
      mark = hub.log.length;
      await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "model.safetensors", localDir: local });
      assert.deepEqual(
        hub.log.slice(mark).map((r) => r.method),
        ["HEAD"],
      );
      // A file edited locally is replaced by the hub's version.
      writeFileSync(join(local, "config.json"), "edited");
      await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "config.json", localDir: local });
      assert.deepEqual(readFileSync(join(local, "config.json")), config);
      // In the cache already: copied from there, no GET.
      await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "extra.bin" });
      mark = hub.log.length;
      await hfHubDownload({ ...opts(join(t.dir, "cache")), path: "extra.bin", localDir: local });
      assert.deepEqual(
        hub.log.slice(mark).map((r) => r.method),
        ["HEAD"],
      );
      assert.ok(!lstatSync(join(local, "extra.bin")).isSymbolicLink());
      const dir = await snapshotDownload({ ...opts(join(t.dir, "cache")), localDir: join(t.dir, "snap") });
      assert.equal(dir, join(t.dir, "snap"));
      assert.ok(readFileSync(join(dir, "model.safetensors")).equals(weights));
    } finally {
      t.cleanup();
    }
  });

  test("datasets and spaces get their URL prefix and cache folder; a revision with '/' nests under refs/", async () => {
    const t = tmp();
    try {
      const dsCommit = await hub.seed({ repo: "org/ds", type: "dataset", files: { "data/train.csv": "a,b\n1,2\n" } });
      const p = await hfHubDownload({ ...opts(t.dir), repo: "org/ds", repoType: "dataset", path: "data/train.csv" });
      assert.equal(p, join(t.dir, "datasets--org--ds", "snapshots", dsCommit, "data", "train.csv"));
      assert.ok(hub.log.some((r) => r.path === "/datasets/org/ds/resolve/main/data/train.csv"));
      const sp = await hub.seed({ repo: "org/sp", type: "space", files: { "app.py": "print(1)\n" } });
      const q = await hfHubDownload({ ...opts(t.dir), repo: "spaces/org/sp", path: "app.py" });
      assert.equal(q, join(t.dir, "spaces--org--sp", "snapshots", sp, "app.py"));
      const repo = hub.state.repos.get(hub.state.key("model", "org/tiny"));
      repo?.branches.set("feature/x", commit);
      await hfHubDownload({ ...opts(t.dir), path: "config.json", revision: "feature/x" });
      assert.ok(
        hub.log.some((r) => r.path === "/org/tiny/resolve/feature%2Fx/config.json"),
        "revision sent as one encoded segment",
      );
      assert.equal(readFileSync(join(t.dir, "models--org--tiny", "refs", "feature", "x"), "utf8"), commit);
    } finally {
      t.cleanup();
    }
  });

  test("snapshotDownload: paginated tree, allow/ignore patterns, parallel files, offline reuse", async () => {
    const t = tmp();
    try {
      const dir = await snapshotDownload({
        ...opts(t.dir),
        allowPatterns: ["*.json", "sub/", "*.safetensors"],
        ignorePatterns: "*.txt",
      });
      assert.equal(dir, join(t.dir, "models--org--tiny", "snapshots", commit));
      const files = readdirSync(dir, { recursive: true }).map(String).sort();
      assert.deepEqual(files, ["config.json", "model.safetensors"]);
      const full = await snapshotDownload({ ...opts(t.dir) });
      assert.ok(readFileSync(join(full, "sub/dir/notes.txt")).equals(nested));
      assert.ok(existsSync(join(full, "extra.bin")));
      const treeCalls = hub.log.filter((r) => r.path.includes("/tree/") && r.method === "GET");
      assert.ok(treeCalls.length >= 3, "the tree listing of 5 entries with pageSize 2 takes 3 pages");
      const offline = await snapshotDownload({ ...opts(t.dir), localFilesOnly: true });
      assert.equal(offline, dir);
    } finally {
      t.cleanup();
    }
  });
});

test("an LFS file served inline (no redirect, ETag = sha256) is verified and cached the same way", async () => {
  const hub = await hubWithUser({ redirectLfs: false });
  const t = tmp();
  try {
    const data = bytes(300_000, 13);
    const c = await hub.seed({ repo: "org/inline", files: { "w.safetensors": data } });
    const p = await hfHubDownload({
      repo: "org/inline",
      path: "w.safetensors",
      endpoint: hub.url,
      accessToken: TOKEN,
      cacheDir: t.dir,
    });
    assert.equal(readlinkSync(p), `../../blobs/${sha256(data)}`);
    assert.equal(p, join(t.dir, "models--org--inline", "snapshots", c, "w.safetensors"));
    assert.ok(readFileSync(p).equals(data));
    assert.ok(!hub.log.some((r) => r.path.startsWith("/lfs-storage/")));
  } finally {
    t.cleanup();
    await hub.close();
  }
});
