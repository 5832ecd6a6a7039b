import assert from "node:assert/strict";
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  CACHED_NO_EXIST,
  hfHubDownload,
  isHubError,
  pruneCache,
  scanCacheDir,
  snapshotDownload,
  tryToLoadFromCache,
} from "../src/index.ts";
import { hubWithUser, TOKEN, tmp, withEnv } from "./helpers.ts";
import type { TestHub } from "./server/index.ts";

const FIXTURE = join(import.meta.dirname, "..", "..", "..", "fixtures", "hub", "python-cache");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const CONFIG = '{"model_type": "bert", "hidden_size": 8}\n';
const WEIGHTS = "W".repeat(64);
const NOTES = "hand-built nested file\n";

/** A private copy of the hand-built cache (symlinks kept as they are). */
function copyFixture(): { dir: string; cleanup: () => void } {
  const t = tmp();
  cpSync(FIXTURE, t.dir, { recursive: true, verbatimSymlinks: true });
  return t;
}

const noNetwork = (() => {
  throw new Error("the network must not be used for a cache hit");
}) as unknown as typeof fetch;

describe("a cache laid out by Python (built by hand) is read as a cache hit", () => {
  let hub: TestHub;
  before(async () => {
    hub = await hubWithUser();
    // The same repo on the hub, at the same commit, so online lookups can agree with the cache.
    await hub.seed({
      repo: "hearth-test/tiny",
      files: { "config.json": CONFIG, "model.safetensors": WEIGHTS, "sub/notes.txt": NOTES },
      commitId: COMMIT,
    });
  });
  after(() => hub.close());

  test("by commit hash: no network call at all", async () => {
    const t = copyFixture();
    try {
      const common = {
        repo: "hearth-test/tiny",
        revision: COMMIT,
        cacheDir: t.dir,
        fetch: noNetwork,
        endpoint: "http://nowhere.invalid",
      };
      assert.equal(readFileSync(await hfHubDownload({ ...common, path: "config.json" }), "utf8"), CONFIG);
      assert.equal(readFileSync(await hfHubDownload({ ...common, path: "model.safetensors" }), "utf8"), WEIGHTS);
      assert.equal(readFileSync(await hfHubDownload({ ...common, path: "sub/notes.txt" }), "utf8"), NOTES);
    } finally {
      t.cleanup();
    }
  });

  test("offline (HF_HUB_OFFLINE=1) by branch: refs/main is followed, .no_exist is honoured", async () => {
    const t = copyFixture();
    try {
      await withEnv({ HF_HUB_OFFLINE: "1" }, async () => {
        const common = { repo: "hearth-test/tiny", cacheDir: t.dir, fetch: noNetwork };
        const p = await hfHubDownload({ ...common, path: "model.safetensors" });
        assert.equal(p, join(t.dir, "models--hearth-test--tiny", "snapshots", COMMIT, "model.safetensors"));
        await assert.rejects(hfHubDownload({ ...common, path: "tokenizer.json" }), (e) =>
          isHubError(e, "HEARTH_HUB_ENTRY_NOT_FOUND"),
        );
        await assert.rejects(hfHubDownload({ ...common, path: "vocab.txt" }), (e) =>
          isHubError(e, "HEARTH_HUB_OFFLINE_NOT_CACHED"),
        );
        assert.equal(
          await snapshotDownload({ ...common }),
          join(t.dir, "models--hearth-test--tiny", "snapshots", COMMIT),
        );
      });
      assert.equal(
        tryToLoadFromCache({ repo: "hearth-test/tiny", path: "tokenizer.json", cacheDir: t.dir }),
        CACHED_NO_EXIST,
      );
      assert.equal(tryToLoadFromCache({ repo: "hearth-test/tiny", path: "vocab.txt", cacheDir: t.dir }), undefined);
    } finally {
      t.cleanup();
    }
  });

  test("online by branch: the hub's HEAD agrees with the cache, so nothing is downloaded", async () => {
    const t = copyFixture();
    try {
      const mark = hub.log.length;
      for (const path of ["config.json", "model.safetensors", "sub/notes.txt"]) {
        const p = await hfHubDownload({
          repo: "hearth-test/tiny",
          path,
          cacheDir: t.dir,
          endpoint: hub.url,
          accessToken: TOKEN,
        });
        assert.equal(p, join(t.dir, "models--hearth-test--tiny", "snapshots", COMMIT, ...path.split("/")));
      }
      assert.deepEqual(
        hub.log.slice(mark).map((r) => r.method),
        ["HEAD", "HEAD", "HEAD"],
      );
    } finally {
      t.cleanup();
    }
  });

  test("scanCacheDir reads it; pruneCache keeps revisions that a ref points to", () => {
    const t = copyFixture();
    try {
      const info = scanCacheDir({ cacheDir: t.dir });
      assert.equal(info.repos.length, 1);
      const [repo] = info.repos;
      assert.equal(repo.repoId, "hearth-test/tiny");
      assert.equal(repo.repoType, "model");
      assert.equal(repo.nbFiles, 3);
      assert.equal(repo.sizeOnDisk, CONFIG.length + WEIGHTS.length + NOTES.length);
      assert.deepEqual(repo.refs, { main: COMMIT });
      assert.deepEqual(repo.revisions[0].refs, ["main"]);
      assert.deepEqual(repo.revisions[0].files.map((f) => f.path).sort(), [
        "config.json",
        "model.safetensors",
        "sub/notes.txt",
      ]);
      assert.deepEqual(pruneCache({ cacheDir: t.dir }), { revisions: [], blobs: [], freedBytes: 0 });
      // A detached revision (no ref) with a blob of its own, plus one it shares with main.
      const repoDir = join(t.dir, "models--hearth-test--tiny");
      const old = "f".repeat(40);
      mkdirSync(join(repoDir, "snapshots", old));
      writeFileSync(join(repoDir, "blobs", "e".repeat(40)), "old bytes");
      symlinkSync(`../../blobs/${"e".repeat(40)}`, join(repoDir, "snapshots", old, "old.txt"));
      symlinkSync(
        readlinkSync(join(repoDir, "snapshots", COMMIT, "config.json")),
        join(repoDir, "snapshots", old, "config.json"),
      );
      const dry = pruneCache({ cacheDir: t.dir, dryRun: true });
      assert.deepEqual(dry.revisions, [{ repoId: "hearth-test/tiny", repoType: "model", commitHash: old }]);
      assert.ok(existsSync(join(repoDir, "snapshots", old)));
      const done = pruneCache({ cacheDir: t.dir });
      assert.equal(done.freedBytes, "old bytes".length);
      assert.equal(existsSync(join(repoDir, "snapshots", old)), false);
      assert.equal(existsSync(join(repoDir, "blobs", "e".repeat(40))), false);
      assert.equal(readFileSync(join(repoDir, "snapshots", COMMIT, "config.json"), "utf8"), CONFIG);
    } finally {
      t.cleanup();
    }
  });
});
