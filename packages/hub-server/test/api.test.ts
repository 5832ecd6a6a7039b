/** Wire-contract details and bad input, over HTTP. */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createUser, startHub, type TestHub } from "./helpers.ts";

const ndjson = (lines: unknown[]) => lines.map((l) => JSON.stringify(l)).join("\n");
const fileLine = (path: string, text: string) => ({
  key: "file",
  value: { path, content: Buffer.from(text).toString("base64"), encoding: "base64" },
});

describe("hub API contract", () => {
  let hub: TestHub;
  let token: string;
  let readToken: string;
  const auth = () => ({ Authorization: `Bearer ${token}` });
  const commit = (body: string, rev = "main", repo = "erin/box") =>
    fetch(`${hub.url}/api/models/${repo}/commit/${encodeURIComponent(rev)}`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/x-ndjson" },
      body,
    });
  const head = async () =>
    ((await (await fetch(`${hub.url}/api/models/erin/box/revision/main`)).json()) as { sha: string }).sha;

  before(async () => {
    hub = await startHub({ limits: { maxRegularFileSize: 64 * 1024, maxLfsFileSize: 1024 * 1024 } });
    const erin = await createUser(hub.app, { name: "erin" });
    token = erin.token;
    const { issueToken } = await import("../src/routes/users.ts");
    readToken = (await issueToken(hub.app, erin.user.id, "ro", "read")).token;
    const res = await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ name: "box", organization: "erin" }),
    });
    assert.equal(res.status, 200);
    assert.equal(
      (
        await commit(
          ndjson([
            { key: "header", value: { summary: "seed" } },
            fileLine("README.md", "# box\n"),
            fileLine("dir/a.txt", "0123456789"),
          ]),
        )
      ).status,
      200,
    );
  });
  after(() => hub.close());

  it("CORS: preflight and exposed headers for browser clients", async () => {
    const pre = await fetch(`${hub.url}/api/models/erin/box/paths-info/main`, {
      method: "OPTIONS",
      headers: { Origin: "http://example.test", "Access-Control-Request-Method": "POST" },
    });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get("access-control-allow-headers") ?? "", /Authorization/);
    const get = await fetch(`${hub.url}/erin/box/resolve/main/README.md`, {
      headers: { Origin: "http://example.test" },
    });
    assert.equal(get.headers.get("access-control-allow-origin"), "*");
    assert.match(get.headers.get("access-control-expose-headers") ?? "", /X-Repo-Commit/);
  });

  it("create-repo 409 still carries url", async () => {
    const res = await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ name: "box", organization: "erin" }),
    });
    assert.equal(res.status, 409);
    assert.equal(((await res.json()) as { url: string }).url, `${hub.url}/erin/box`);
  });

  it("resolve: HEAD headers, Range 206, 416, EntryNotFound with X-Repo-Commit, RevisionNotFound", async () => {
    const sha = await head();
    const h = await fetch(`${hub.url}/erin/box/resolve/main/dir/a.txt`, { method: "HEAD" });
    assert.equal(h.status, 200);
    assert.equal(h.headers.get("x-repo-commit"), sha);
    assert.equal(h.headers.get("content-length"), "10");
    const blobSha1 = createHash("sha1").update("blob 10\0").update("0123456789").digest("hex");
    assert.equal(h.headers.get("etag"), `"${blobSha1}"`);
    const r = await fetch(`${hub.url}/erin/box/resolve/${sha}/dir%2Fa.txt`, { headers: { Range: "bytes=2-4" } });
    assert.equal(r.status, 206);
    assert.equal(r.headers.get("content-range"), "bytes 2-4/10");
    assert.equal(await r.text(), "234");
    const tail = await fetch(`${hub.url}/erin/box/resolve/main/dir/a.txt`, { headers: { Range: "bytes=-3" } });
    assert.equal(await tail.text(), "789");
    const bad = await fetch(`${hub.url}/erin/box/resolve/main/dir/a.txt`, { headers: { Range: "bytes=10-" } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get("content-range"), "bytes */10");
    const missing = await fetch(`${hub.url}/erin/box/resolve/main/nope.json`, { method: "HEAD" });
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("x-error-code"), "EntryNotFound");
    assert.equal(missing.headers.get("x-repo-commit"), sha);
    const rev = await fetch(`${hub.url}/erin/box/resolve/nobranch/README.md`, { method: "HEAD" });
    assert.equal(rev.status, 404);
    assert.equal(rev.headers.get("x-error-code"), "RevisionNotFound");
    const raw = await fetch(`${hub.url}/erin/box/raw/main/README.md`);
    assert.equal(await raw.text(), "# box\n");
    await hub.app.hub.downloads.flush();
    assert.ok(((await (await fetch(`${hub.url}/api/models/erin/box`)).json()) as { downloads: number }).downloads >= 1);
    const anon = await fetch(`${hub.url}/erin/none/resolve/main/README.md`, { method: "HEAD" });
    assert.equal(anon.status, 401);
    assert.equal(anon.headers.get("x-error-code"), "RepoNotFound");
    const badTok = await fetch(`${hub.url}/api/models/erin/box`, { headers: { Authorization: "Bearer hf_nope" } });
    assert.equal(badTok.status, 401);
    assert.equal(badTok.headers.get("x-error-code"), null);
  });

  it("paths-info takes JSON and form bodies; tree and listings paginate with Link", async () => {
    const json = await fetch(`${hub.url}/api/models/erin/box/paths-info/main`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ paths: ["dir/a.txt", "ghost"], expand: true }),
    });
    const entries = (await json.json()) as Array<{ path: string; lastCommit?: { id: string } }>;
    assert.deepEqual(
      entries.map((e) => e.path),
      ["dir/a.txt"],
    );
    assert.match(entries[0]?.lastCommit?.id ?? "", /^[0-9a-f]{40}$/);
    const form = await fetch(`${hub.url}/api/models/erin/box/paths-info/main`, {
      method: "POST",
      body: new URLSearchParams([
        ["paths", "dir"],
        ["paths", "README.md"],
        ["expand", "False"],
      ]),
    });
    const fe = (await form.json()) as Array<{ path: string; type: string; oid: string }>;
    assert.deepEqual(fe.map((e) => [e.path, e.type]).sort(), [
      ["README.md", "file"],
      ["dir", "directory"],
    ]);
    assert.ok(fe.every((e) => /^[0-9a-f]{40}$/.test(e.oid)));

    const seen: string[] = [];
    let url: string | undefined = `${hub.url}/api/models/erin/box/tree/main?recursive=true&limit=2`;
    while (url) {
      const res: Response = await fetch(url);
      seen.push(...((await res.json()) as Array<{ path: string }>).map((e) => e.path));
      url = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
    }
    assert.deepEqual(seen.sort(), [".gitattributes", "README.md", "dir", "dir/a.txt"]);
    const notDir = await fetch(`${hub.url}/api/models/erin/box/tree/main/additional_chat_templates`);
    assert.equal(notDir.headers.get("x-error-code"), "EntryNotFound");

    for (const n of ["p1", "p2", "p3"]) {
      await fetch(`${hub.url}/api/repos/create`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/json" },
        body: JSON.stringify({ name: n, type: "dataset" }),
      });
    }
    const ids: string[] = [];
    let next: string | undefined = `${hub.url}/api/datasets?limit=2&search=erin/p`;
    while (next) {
      const res: Response = await fetch(next);
      ids.push(...((await res.json()) as Array<{ id: string }>).map((e) => e.id));
      next = /<([^>]+)>; rel="next"/.exec(res.headers.get("link") ?? "")?.[1];
    }
    assert.deepEqual(ids, ["erin/p1", "erin/p2", "erin/p3"]);
  });

  it("refs, branches, tags and commits with X-Total-Count", async () => {
    const b = await fetch(`${hub.url}/api/models/erin/box/branch/dev`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(b.status, 200);
    const again = await fetch(`${hub.url}/api/models/erin/box/branch/dev`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: "{}",
    });
    assert.equal(again.status, 409);
    const t = await fetch(`${hub.url}/api/models/erin/box/tag/main`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({ tag: "v1" }),
    });
    assert.equal(t.status, 200);
    const refs = (await (await fetch(`${hub.url}/api/models/erin/box/refs`)).json()) as {
      branches: Array<{ name: string }>;
      tags: Array<{ name: string }>;
      converts: unknown[];
    };
    assert.deepEqual(refs.branches.map((x) => x.name).sort(), ["dev", "main"]);
    assert.deepEqual(
      refs.tags.map((x) => x.name),
      ["v1"],
    );
    assert.deepEqual(refs.converts, []);
    const c = await fetch(`${hub.url}/api/models/erin/box/commits/v1?limit=1`);
    assert.equal(c.headers.get("x-total-count"), "2");
    const list = (await c.json()) as Array<{ id: string; title: string; date: string; authors: unknown[] }>;
    assert.equal(list[0]?.title, "seed");
    assert.match(list[0]?.date ?? "", /Z$/);
    assert.ok(c.headers.get("link")?.includes('rel="next"'));
  });

  it("rejects path traversal, malformed NDJSON, oversize files and unknown revisions without changing the repo", async () => {
    const before = await head();
    const cases: Array<[string, number, string]> = [
      [
        ndjson([{ key: "header", value: { summary: "x" } }, fileLine("../escape.txt", "x")]),
        400,
        "HEARTH_HUBSERVER_BAD_PATH",
      ],
      [ndjson([{ key: "header", value: { summary: "x" } }, fileLine("a/./b", "x")]), 400, "HEARTH_HUBSERVER_BAD_PATH"],
      [
        ndjson([{ key: "header", value: { summary: "x" } }, fileLine(".git/config", "x")]),
        400,
        "HEARTH_HUBSERVER_BAD_PATH",
      ],
      [ndjson([{ key: "header", value: { summary: "x" } }, fileLine("/abs", "x")]), 400, "HEARTH_HUBSERVER_BAD_PATH"],
      [`${ndjson([{ key: "header", value: { summary: "x" } }])}\n{not json`, 400, "HEARTH_HUBSERVER_BAD_NDJSON"],
      [ndjson([{ key: "file", value: { path: "a", content: "" } }]), 400, "HEARTH_HUBSERVER_BAD_NDJSON"],
      [
        ndjson([
          { key: "header", value: { summary: "x" } },
          { key: "bogus", value: { path: "a" } },
        ]),
        400,
        "HEARTH_HUBSERVER_BAD_NDJSON",
      ],
      [
        ndjson([
          { key: "header", value: { summary: "x" } },
          fileLine("ok.txt", "fine"),
          fileLine("big.bin", "x".repeat(70 * 1024)),
        ]),
        413,
        "HEARTH_HUBSERVER_TOO_LARGE",
      ],
      [
        ndjson([
          { key: "header", value: { summary: "x" } },
          { key: "deletedFile", value: { path: "ghost.txt" } },
        ]),
        404,
        "HEARTH_HUBSERVER_ENTRY_NOT_FOUND",
      ],
      [
        ndjson([
          { key: "header", value: { summary: "x" } },
          { key: "lfsFile", value: { path: "w.bin", algo: "sha256", oid: "a".repeat(64), size: 3 } },
        ]),
        422,
        "HEARTH_HUBSERVER_LFS_OBJECT_MISSING",
      ],
      [
        ndjson([{ key: "header", value: { summary: "x" } }, fileLine("dir", "file where a folder is")]),
        400,
        "HEARTH_HUBSERVER_BAD_PATH",
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await commit(body);
      assert.equal(res.status, status, body.slice(0, 120));
      assert.equal(((await res.json()) as { code: string }).code, code);
    }
    const unknown = await commit(
      ndjson([{ key: "header", value: { summary: "x" } }, fileLine("a.txt", "a")]),
      "no-such-branch",
    );
    assert.equal(unknown.status, 404);
    assert.equal(unknown.headers.get("x-error-code"), "RevisionNotFound");
    const traversal = await fetch(`${hub.url}/erin/box/resolve/main/..%2F..%2Fhub.sqlite`);
    assert.equal(traversal.status, 400);
    const ro = await fetch(`${hub.url}/api/models/erin/box/commit/main`, {
      method: "POST",
      headers: { Authorization: `Bearer ${readToken}`, "Content-Type": "application/x-ndjson" },
      body: ndjson([{ key: "header", value: { summary: "x" } }, fileLine("r.txt", "r")]),
    });
    assert.equal(ro.status, 403);
    assert.equal(await head(), before);
  });

  it("LFS: wrong sha256 or size is refused and nothing is stored; a right upload commits", async () => {
    const data = randomBytes(5000);
    const oid = createHash("sha256").update(data).digest("hex");
    const batch = async (size: number) => {
      const res = await fetch(`${hub.url}/erin/box.git/info/lfs/objects/batch`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/vnd.git-lfs+json", Accept: "application/vnd.git-lfs+json" },
        body: JSON.stringify({
          operation: "upload",
          transfers: ["basic"],
          objects: [{ oid, size }],
          hash_algo: "sha256",
        }),
      });
      assert.equal(res.status, 200);
      return (
        (await res.json()) as { objects: Array<{ actions?: { upload: { href: string } }; error?: { code: number } }> }
      ).objects[0];
    };
    const o = await batch(data.length);
    const href = o?.actions?.upload.href as string;
    const tampered = Buffer.from(data);
    tampered[0] = (tampered[0] as number) ^ 1;
    const wrong = await fetch(href, { method: "PUT", body: tampered });
    assert.equal(wrong.status, 422);
    assert.equal(((await wrong.json()) as { code: string }).code, "HEARTH_HUBSERVER_LFS_HASH_MISMATCH");
    const short = await fetch(href, { method: "PUT", body: data.subarray(0, 100) });
    assert.equal(short.status, 422);
    const objects = await readdir(join(hub.dataDir, "lfs", "objects")).catch(() => []);
    assert.deepEqual(objects, []);
    assert.equal((await batch(2 * 1024 * 1024))?.error?.code, 422, "over maxLfsFileSize");
    const ok = await fetch(href, { method: "PUT", body: data });
    assert.equal(ok.status, 200);
    assert.equal((await batch(data.length))?.actions, undefined, "already stored: no upload action");
    const forged = await fetch(`${href.slice(0, -3)}abc`, { method: "PUT", body: data });
    assert.equal(forged.status, 403);
    const res = await commit(
      ndjson([
        { key: "header", value: { summary: "lfs" } },
        { key: "lfsFile", value: { path: "w.dat", algo: "sha256", oid, size: data.length } },
      ]),
    );
    assert.equal(res.status, 200);
    const dl = await fetch(`${hub.url}/erin/box/resolve/main/w.dat`, { headers: { Range: "bytes=10-19" } });
    assert.equal(dl.headers.get("x-linked-size"), String(data.length));
    assert.equal(dl.headers.get("x-linked-etag"), `"${oid}"`);
    assert.deepEqual(Buffer.from(await dl.arrayBuffer()), data.subarray(10, 20));
    const attrs = await (await fetch(`${hub.url}/erin/box/resolve/main/.gitattributes`)).text();
    assert.match(attrs, /^w\.dat filter=lfs diff=lfs merge=lfs -text$/m);
  });

  it("LFS PUT: a body streamed in odd pieces is stored byte for byte; a dropped one leaves nothing", async () => {
    const data = randomBytes(1024 * 1024 - 99); // just under this hub's maxLfsFileSize
    const oid = createHash("sha256").update(data).digest("hex");
    const href = async () => {
      const res = await fetch(`${hub.url}/erin/box.git/info/lfs/objects/batch`, {
        method: "POST",
        headers: { ...auth(), "Content-Type": "application/vnd.git-lfs+json" },
        body: JSON.stringify({ operation: "upload", objects: [{ oid, size: data.length }] }),
      });
      return ((await res.json()) as { objects: Array<{ actions: { upload: { href: string } } }> }).objects[0]?.actions
        .upload.href as string;
    };
    const url = new URL(await href());
    // A dropped connection half-way: no object, no temp file left behind.
    await new Promise<void>((resolve) => {
      const req = httpRequest(url, { method: "PUT", headers: { "content-length": String(data.length) } });
      req.on("error", () => resolve());
      req.write(data.subarray(0, 300_000), () => setTimeout(() => req.destroy(), 50));
    });
    const tmpDir = join(hub.dataDir, "lfs", "tmp");
    for (let i = 0; i < 100 && (await readdir(tmpDir).catch(() => [])).length > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await readdir(tmpDir).catch(() => []), []);
    // Streamed in pieces of 1 byte to 200 KB, some after a pause.
    const sizes = [1, 200_000, 7, 65_536, 3, 150_000];
    let at = 0;
    let k = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (at >= data.length) return controller.close();
        const n = Math.min(sizes[k++ % sizes.length] as number, data.length - at);
        if (k % 4 === 0) await new Promise((r) => setTimeout(r, 5));
        controller.enqueue(data.subarray(at, at + n));
        at += n;
      },
    });
    const ok = await fetch(url, {
      method: "PUT",
      body,
      headers: { "content-length": String(data.length) },
      duplex: "half",
    } as RequestInit);
    assert.equal(ok.status, 200);
    const stored = await readFile(join(hub.dataDir, "lfs", "objects", oid.slice(0, 2), oid.slice(2, 4), oid));
    assert.ok(stored.equals(data));
    assert.deepEqual(await readdir(tmpDir), []);
  });

  it("parentCommit: 412 on mismatch; concurrent commits to one branch all land, in order", async () => {
    const base = await head();
    const stale = await commit(
      ndjson([{ key: "header", value: { summary: "stale", parentCommit: "0".repeat(40) } }, fileLine("s.txt", "s")]),
    );
    assert.equal(stale.status, 412);
    const racing = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        commit(
          ndjson([
            { key: "header", value: { summary: `race ${i}`, parentCommit: base } },
            fileLine(`race-${i}.txt`, String(i)),
          ]),
        ),
      ),
    );
    assert.deepEqual(racing.map((r) => r.status).sort(), [200, 412, 412, 412, 412, 412]);
    const free = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        commit(ndjson([{ key: "header", value: { summary: `free ${i}` } }, fileLine(`free-${i}.txt`, String(i))])),
      ),
    );
    assert.ok(free.every((r) => r.status === 200));
    const tree = (await (await fetch(`${hub.url}/api/models/erin/box/tree/main`)).json()) as Array<{ path: string }>;
    const paths = new Set(tree.map((e) => e.path));
    for (let i = 0; i < 8; i++) assert.ok(paths.has(`free-${i}.txt`));
    assert.equal([...paths].filter((p) => p.startsWith("race-")).length, 1);
    const count = (await fetch(`${hub.url}/api/models/erin/box/commits/main?limit=1`)).headers.get("x-total-count");
    assert.equal(Number(count), 3 + 1 + 8); // initial, seed, lfs; one race winner; eight free
  });

  it("deletedFolder, copyFile and rename via oldPath", async () => {
    const res = await commit(
      ndjson([
        { key: "header", value: { summary: "reshape" } },
        { key: "copyFile", value: { path: "copy.txt", srcPath: "dir/a.txt" } },
        { key: "deletedFolder", value: { path: "dir/" } },
        { key: "file", value: { path: "readme2.md", content: "moved", encoding: "utf-8", oldPath: "README.md" } },
      ]),
    );
    assert.equal(res.status, 200);
    const tree = (await (await fetch(`${hub.url}/api/models/erin/box/tree/main`)).json()) as Array<{ path: string }>;
    const paths = tree.map((e) => e.path);
    assert.ok(paths.includes("copy.txt") && paths.includes("readme2.md"));
    assert.ok(!paths.includes("dir") && !paths.includes("README.md"));
    assert.equal(await (await fetch(`${hub.url}/erin/box/resolve/main/copy.txt`)).text(), "0123456789");
  });

  it("preupload picks lfs by .gitattributes and size, reports oids and shouldIgnore", async () => {
    const res = await fetch(`${hub.url}/api/models/erin/box/preupload/main`, {
      method: "POST",
      headers: { ...auth(), "Content-Type": "application/json" },
      body: JSON.stringify({
        files: [
          { path: "m.safetensors", size: 10 },
          { path: "copy.txt", size: 10 },
          { path: "huge.txt", size: 50 * 1024 * 1024 },
          { path: "empty.bin", size: 0 },
          { path: "tmp/x.log", size: 3 },
        ],
        gitIgnore: "tmp/\n",
      }),
    });
    const files = (
      (await res.json()) as { files: Array<{ path: string; uploadMode: string; shouldIgnore: boolean; oid?: string }> }
    ).files;
    const by = new Map(files.map((f) => [f.path, f]));
    assert.equal(by.get("m.safetensors")?.uploadMode, "lfs");
    assert.equal(by.get("copy.txt")?.uploadMode, "regular");
    assert.equal(by.get("copy.txt")?.oid, createHash("sha1").update("blob 10\0").update("0123456789").digest("hex"));
    assert.equal(by.get("huge.txt")?.uploadMode, "lfs");
    assert.equal(by.get("empty.bin")?.uploadMode, "regular");
    assert.equal(by.get("tmp/x.log")?.shouldIgnore, true);
    const yaml = await fetch(`${hub.url}/api/validate-yaml`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ content: "---\nfoo: [\n---\n", repoType: "model" }),
    });
    assert.equal(yaml.status, 400);
  });

  it("an oversize commit body is refused with 413 before it is parsed", async () => {
    const small = await startHub({ bodyLimit: 4096 });
    try {
      const { token: t } = await createUser(small.app, { name: "frank" });
      await fetch(`${small.url}/api/repos/create`, {
        method: "POST",
        headers: { Authorization: `Bearer ${t}`, "Content-Type": "application/json" },
        body: JSON.stringify({ name: "r" }),
      });
      const res = await fetch(`${small.url}/api/models/frank/r/commit/main`, {
        method: "POST",
        headers: { Authorization: `Bearer ${t}`, "Content-Type": "application/x-ndjson" },
        body: ndjson([{ key: "header", value: { summary: "big" } }, fileLine("big.txt", "x".repeat(10_000))]),
      });
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { code: string }).code, "HEARTH_HUBSERVER_TOO_LARGE");
      assert.equal((await fetch(`${small.url}/api/models/frank/r/auth-check`)).status, 200);
      assert.equal(
        (await fetch(`${small.url}/api/models/frank/nope/auth-check`)).headers.get("x-error-code"),
        "RepoNotFound",
      );
    } finally {
      await small.close();
    }
  });

  it("move, settings (private) and delete", async () => {
    const post = (path: string, body: unknown, method = "POST") =>
      fetch(`${hub.url}${path}`, {
        method,
        headers: { ...auth(), "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    assert.equal((await post("/api/repos/create", { name: "mv", type: "dataset" })).status, 200);
    assert.equal(
      (await post("/api/repos/move", { fromRepo: "erin/mv", toRepo: "erin/moved", type: "dataset" })).status,
      200,
    );
    assert.equal((await fetch(`${hub.url}/api/datasets/erin/mv`)).status, 401);
    assert.equal((await fetch(`${hub.url}/api/datasets/erin/moved`)).status, 200);
    assert.equal((await post("/api/datasets/erin/moved/settings", { visibility: "private" }, "PUT")).status, 200);
    assert.equal(
      (await fetch(`${hub.url}/datasets/erin/moved/resolve/main/.gitattributes`)).headers.get("x-error-code"),
      "RepoNotFound",
    );
    assert.equal(
      (await fetch(`${hub.url}/datasets/erin/moved/resolve/main/.gitattributes`, { headers: auth() })).status,
      200,
    );
    assert.equal(
      (await post("/api/repos/delete", { name: "moved", organization: "erin", type: "dataset" }, "DELETE")).status,
      200,
    );
    assert.equal((await fetch(`${hub.url}/api/datasets/erin/moved`, { headers: auth() })).status, 404);
  });
});
