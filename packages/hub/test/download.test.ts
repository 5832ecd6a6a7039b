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

  test("a large file is verified on a worker thread, across a resume, and tampering is caught there too", async () => {
    const t = tmp();
    const big = bytes(17 * 1024 * 1024, 5); // above the 16 MiB worker threshold
    await hub.seed({ repo: "org/big", files: { "big.safetensors": big } });
    try {
      hub.faults.cutNextDownloadAfter = 5_000_000;
      const p = await hfHubDownload({ ...opts(t.dir), repo: "org/big", path: "big.safetensors" });
      assert.ok(readFileSync(p).equals(big));
      const stored = hub.state.lfsPath(sha256(big));
      const bad = Buffer.from(big);
      bad[big.length - 1] ^= 1;
      writeFileSync(stored, bad);
      await assert.rejects(
        hfHubDownload({ ...opts(t.dir), repo: "org/big", path: "big.safetensors", forceDownload: true }),
        (e) => isHubError(e, "HEARTH_HUB_CHECKSUM_MISMATCH"),
      );
      writeFileSync(stored, big);
    } finally {
      t.cleanup();
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
