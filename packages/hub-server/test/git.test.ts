/** Real `git` and `git-lfs` against the server: clone, LFS push, clone elsewhere, same bytes. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createUser, type GitClient, gitClient, startHub, type TestHub } from "./helpers.ts";

const hasLfs = spawnSync("git", ["lfs", "version"]).status === 0;

let git: GitClient["run"];

describe("git + git-lfs over smart HTTP", {
  skip: hasLfs ? false : "git-lfs is not installed (apt-get install git-lfs)",
}, () => {
  let hub: TestHub;
  let work: string;
  let token: string;
  let otherToken: string;
  before(async () => {
    hub = await startHub({ limits: { maxRegularFileSize: 1024 * 1024 } });
    token = (await createUser(hub.app, { name: "carol" })).token;
    otherToken = (await createUser(hub.app, { name: "dave" })).token;
    work = await mkdtemp(join(tmpdir(), "hearth-git-"));
    git = (await gitClient(work, "Carol", 30_000)).run;
    for (const name of ["weights", "hidden"]) {
      const res = await fetch(`${hub.url}/api/repos/create`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name, private: name === "hidden" }),
      });
      assert.equal(res.status, 200);
    }
  });
  after(async () => {
    await hub.close();
    await rm(work, { recursive: true, force: true });
  });

  it("clones, pushes an LFS file, and a fresh clone gets identical bytes", async () => {
    const authUrl = hub.url.replace("http://", `http://carol:${token}@`);
    await git(work, "clone", "-q", `${authUrl}/carol/weights`, "a");
    const a = join(work, "a");
    assert.match(await readFile(join(a, ".gitattributes"), "utf8"), /\*\.safetensors filter=lfs/);
    const big = randomBytes(3 * 1024 * 1024 + 7);
    await writeFile(join(a, "model.safetensors"), big);
    await writeFile(join(a, "notes.txt"), "hello from git\n");
    await git(a, "add", "model.safetensors", "notes.txt");
    await git(a, "commit", "-q", "-m", "add weights via git");
    await git(a, "push", "-q", "origin", "main");

    // the API sees the pushed commit, with the LFS object in the store
    const tree = (await (await fetch(`${hub.url}/api/models/carol/weights/tree/main`)).json()) as Array<{
      path: string;
      size: number;
      lfs?: { oid: string };
    }>;
    const entry = tree.find((e) => e.path === "model.safetensors");
    assert.equal(entry?.size, big.length);
    assert.equal(entry?.lfs?.oid, createHash("sha256").update(big).digest("hex"));
    const commits = (await (await fetch(`${hub.url}/api/models/carol/weights/commits/main`)).json()) as Array<{
      title: string;
    }>;
    assert.equal(commits[0]?.title, "add weights via git");
    const dl = await fetch(`${hub.url}/carol/weights/resolve/main/model.safetensors`);
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), big);

    // an API commit on top, then a second clone elsewhere
    const ndjson = [
      { key: "header", value: { summary: "api edit" } },
      {
        key: "file",
        value: { path: "notes.txt", content: Buffer.from("edited by API\n").toString("base64"), encoding: "base64" },
      },
    ]
      .map((l) => JSON.stringify(l))
      .join("\n");
    const res = await fetch(`${hub.url}/api/models/carol/weights/commit/main`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/x-ndjson" },
      body: ndjson,
    });
    assert.equal(res.status, 200);
    await git(work, "clone", "-q", `${hub.url}/carol/weights.git`, "b");
    const b = join(work, "b");
    assert.deepEqual(await readFile(join(b, "model.safetensors")), big);
    assert.equal(await readFile(join(b, "notes.txt"), "utf8"), "edited by API\n");
    assert.equal((await git(b, "log", "-1", "--format=%s")).trim(), "api edit");
  });

  it("refuses a push with a large file that is not tracked by LFS, leaving the branch as it was", async () => {
    const authUrl = hub.url.replace("http://", `http://carol:${token}@`);
    await git(work, "clone", "-q", `${authUrl}/carol/weights`, "big");
    const dir = join(work, "big");
    const before = (await git(dir, "rev-parse", "HEAD")).trim();
    await writeFile(join(dir, "huge.txt"), "x".repeat(2 * 1024 * 1024));
    await git(dir, "add", "huge.txt");
    await git(dir, "commit", "-q", "-m", "too big");
    await assert.rejects(
      git(dir, "push", "-q", "origin", "main"),
      /huge\.txt is 2097152 bytes; files over 1048576 bytes must go through Git LFS/,
    );
    const head = (await (await fetch(`${hub.url}/api/models/carol/weights/revision/main`)).json()) as { sha: string };
    assert.equal(head.sha, before);
  });

  it("refuses anonymous pushes and hides private repos", async () => {
    await git(work, "clone", "-q", `${hub.url}/carol/weights`, "anon");
    const anon = join(work, "anon");
    await writeFile(join(anon, "x.txt"), "x");
    await git(anon, "add", "x.txt");
    await git(anon, "commit", "-q", "-m", "x");
    await assert.rejects(
      git(anon, "push", "-q", "origin", "main"),
      /Authentication|401|could not read Username|terminal prompts disabled/,
    );
    const asDave = hub.url.replace("http://", `http://dave:${otherToken}@`);
    await assert.rejects(git(anon, "push", "-q", `${asDave}/carol/weights`, "main"), /403|denied|may not push/);
    // private: anonymous gets an auth prompt, another user gets "not found", the owner can clone
    await assert.rejects(
      git(work, "clone", "-q", `${hub.url}/carol/hidden`, "h1"),
      /Authentication|could not read Username|terminal prompts disabled/,
    );
    await assert.rejects(git(work, "clone", "-q", `${asDave}/carol/hidden`, "h2"), /not found|404/);
    await assert.rejects(git(work, "clone", "-q", `${asDave}/carol/does-not-exist`, "h3"), /not found|404/);
    await git(work, "clone", "-q", `${hub.url.replace("http://", `http://carol:${token}@`)}/carol/hidden`, "h4");
  });
});
