/** The real @huggingface/hub client against the server, unmodified. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import {
  commit,
  createRepo,
  deleteFile,
  downloadFile,
  fileExists,
  listCommits,
  listFiles,
  modelInfo,
  uploadFiles,
  whoAmI,
} from "@huggingface/hub";
import { createUser, startHub, type TestHub } from "./helpers.ts";

describe("@huggingface/hub client", () => {
  let hub: TestHub;
  let alice: string;
  let bob: string;
  before(async () => {
    hub = await startHub({ limits: { multipartThreshold: 3 * 1024 * 1024, multipartChunkSize: 1024 * 1024 } });
    alice = (await createUser(hub.app, { name: "alice" })).token;
    bob = (await createUser(hub.app, { name: "bob" })).token;
  });
  after(() => hub.close());

  it("whoAmI names the token's user", async () => {
    const me = await whoAmI({ accessToken: alice, hubUrl: hub.url });
    assert.equal(me.name, "alice");
    assert.equal(me.type, "user");
  });

  it("createRepo, uploadFiles (small + LFS), listFiles, downloadFile with Range, modelInfo", async () => {
    const repo = { type: "model" as const, name: "alice/tiny" };
    const { repoUrl } = await createRepo({ repo, accessToken: alice, hubUrl: hub.url });
    assert.equal(repoUrl, `${hub.url}/alice/tiny`);
    const big = randomBytes(200_000);
    const card = "---\nlicense: mit\npipeline_tag: text-generation\ntags: [tiny]\n---\n# Tiny\n";
    await uploadFiles({
      repo,
      accessToken: alice,
      hubUrl: hub.url,
      useXet: false,
      files: [
        { path: "README.md", content: new Blob([card]) },
        { path: "config.json", content: new Blob([JSON.stringify({ model_type: "gpt2" })]) },
        { path: "model.safetensors", content: new Blob([big]) },
      ],
    });
    const files = [];
    for await (const f of listFiles({ repo, accessToken: alice, hubUrl: hub.url })) files.push(f);
    const byPath = new Map(files.map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()].sort(), [".gitattributes", "README.md", "config.json", "model.safetensors"]);
    const lfs = byPath.get("model.safetensors");
    assert.equal(lfs?.size, big.length);
    assert.equal(lfs?.lfs?.oid, createHash("sha256").update(big).digest("hex"));
    assert.equal(byPath.get("config.json")?.lfs, undefined);

    const blob = await downloadFile({ repo, path: "model.safetensors", accessToken: alice, hubUrl: hub.url });
    assert.ok(blob);
    assert.equal(blob.size, big.length);
    const slice = Buffer.from(await blob.slice(1000, 1100).arrayBuffer());
    assert.deepEqual(slice, big.subarray(1000, 1100));
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), big);
    const cfg = await downloadFile({ repo, path: "config.json", accessToken: alice, hubUrl: hub.url });
    assert.deepEqual(JSON.parse(await (cfg as Blob).text()), { model_type: "gpt2" });
    assert.equal(await downloadFile({ repo, path: "missing.bin", accessToken: alice, hubUrl: hub.url }), null);

    const info = await modelInfo({ name: "alice/tiny", accessToken: alice, hubUrl: hub.url });
    assert.equal(info.name, "alice/tiny");
    assert.equal(info.private, false);
    assert.equal(info.task, "text-generation");
    assert.ok(info.updatedAt instanceof Date && !Number.isNaN(info.updatedAt.getTime()));
  });

  it("multipart LFS upload of a file above the threshold", async () => {
    const repo = { type: "dataset" as const, name: "alice/multi" };
    await createRepo({ repo, accessToken: alice, hubUrl: hub.url });
    const big = randomBytes(3 * 1024 * 1024 + 12345);
    const urls: string[] = [];
    const recording: typeof fetch = (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init);
    };
    await uploadFiles({
      repo,
      accessToken: alice,
      hubUrl: hub.url,
      useXet: false,
      fetch: recording,
      files: [{ path: "data/shard.parquet", content: new Blob([big]) }],
    });
    assert.equal(urls.filter((u) => /\/part\/\d+$/.test(u)).length, 4, "4 parts of 1 MiB");
    assert.equal(urls.filter((u) => u.endsWith("/complete")).length, 1);
    const blob = await downloadFile({ repo, path: "data/shard.parquet", accessToken: alice, hubUrl: hub.url });
    assert.deepEqual(Buffer.from(await (blob as Blob).arrayBuffer()), big);
  });

  it("commit with a deletion, history and fileExists", async () => {
    const repo = { type: "model" as const, name: "alice/edits" };
    await createRepo({ repo, accessToken: alice, hubUrl: hub.url });
    await uploadFiles({
      repo,
      accessToken: alice,
      hubUrl: hub.url,
      useXet: false,
      files: [
        { path: "a.txt", content: new Blob(["a"]) },
        { path: "b.txt", content: new Blob(["b"]) },
      ],
    });
    const res = await commit({
      repo,
      accessToken: alice,
      hubUrl: hub.url,
      title: "drop a, add c",
      useXet: false,
      operations: [
        { operation: "delete", path: "a.txt" },
        { operation: "addOrUpdate", path: "c.txt", content: new Blob(["c"]) },
      ],
    });
    assert.match(res?.commit.oid ?? "", /^[0-9a-f]{40}$/);
    assert.equal(await fileExists({ repo, path: "a.txt", accessToken: alice, hubUrl: hub.url }), false);
    assert.equal(await fileExists({ repo, path: "c.txt", accessToken: alice, hubUrl: hub.url }), true);
    await deleteFile({ repo, path: "b.txt", accessToken: alice, hubUrl: hub.url });
    const titles = [];
    for await (const c of listCommits({ repo, accessToken: alice, hubUrl: hub.url })) titles.push(c.title);
    assert.equal(titles[0], "Delete b.txt");
    assert.equal(titles[1], "drop a, add c");
    assert.equal(titles.at(-1), "initial commit");
  });

  it("a private repo is invisible to another user's token", async () => {
    const repo = { type: "model" as const, name: "alice/secret" };
    await createRepo({ repo, accessToken: alice, hubUrl: hub.url, private: true });
    await uploadFiles({
      repo,
      accessToken: alice,
      hubUrl: hub.url,
      useXet: false,
      files: [{ path: "x.txt", content: new Blob(["x"]) }],
    });
    const mine = await modelInfo({ name: "alice/secret", accessToken: alice, hubUrl: hub.url });
    assert.equal(mine.private, true);
    await assert.rejects(
      modelInfo({ name: "alice/secret", accessToken: bob, hubUrl: hub.url }),
      (e: { statusCode?: number }) => e.statusCode === 404,
    );
    await assert.rejects(
      modelInfo({ name: "alice/nothing-here", accessToken: bob, hubUrl: hub.url }),
      (e: { statusCode?: number }) => e.statusCode === 404,
    );
    const asBob = await fetch(`${hub.url}/alice/secret/resolve/main/x.txt`, {
      headers: { Authorization: `Bearer ${bob}` },
    });
    const missing = await fetch(`${hub.url}/alice/nothing-here/resolve/main/x.txt`, {
      headers: { Authorization: `Bearer ${bob}` },
    });
    assert.equal(asBob.status, missing.status);
    assert.equal(asBob.headers.get("x-error-code"), "RepoNotFound");
    assert.equal(missing.headers.get("x-error-code"), "RepoNotFound");
    const listed = await (
      await fetch(`${hub.url}/api/models?search=secret`, { headers: { Authorization: `Bearer ${bob}` } })
    ).json();
    assert.deepEqual(listed, []);
    await assert.rejects(
      uploadFiles({
        repo,
        accessToken: bob,
        hubUrl: hub.url,
        useXet: false,
        files: [{ path: "y.txt", content: new Blob(["y"]) }],
      }),
    );
  });
});
