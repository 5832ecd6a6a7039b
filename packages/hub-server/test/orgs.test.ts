/** Organisations and roles: read members see private org repos, only write members change them. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createUser, startHub, type TestHub } from "./helpers.ts";

describe("organisations, roles and encoded revisions", () => {
  let hub: TestHub;
  const tokens: Record<string, string> = {};
  const call = (who: string, method: string, path: string, body?: unknown, type = "application/json") =>
    fetch(`${hub.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${tokens[who]}`, ...(body !== undefined ? { "Content-Type": type } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
  const commitLine = (path: string) =>
    [
      { key: "header", value: { summary: `add ${path}` } },
      { key: "file", value: { path, content: "hi", encoding: "utf-8" } },
    ]
      .map((l) => JSON.stringify(l))
      .join("\n");

  before(async () => {
    hub = await startHub();
    for (const name of ["owner", "reader", "writer", "outsider"])
      tokens[name] = (await createUser(hub.app, { name })).token;
    assert.equal((await call("owner", "POST", "/api/organizations", { name: "lab" })).status, 200);
    assert.equal((await call("owner", "PUT", "/api/organizations/lab/members/reader", { role: "read" })).status, 200);
    assert.equal((await call("owner", "PUT", "/api/organizations/lab/members/writer", { role: "write" })).status, 200);
    assert.equal(
      (await call("reader", "PUT", "/api/organizations/lab/members/outsider", { role: "write" })).status,
      403,
    );
    assert.equal(
      (await call("owner", "POST", "/api/repos/create", { name: "secret-model", organization: "lab", private: true }))
        .status,
      200,
    );
  });
  after(() => hub.close());

  it("org roles decide who reads and who writes a private org repo", async () => {
    assert.equal((await call("reader", "GET", "/api/models/lab/secret-model")).status, 200);
    assert.equal((await call("outsider", "GET", "/api/models/lab/secret-model")).status, 404);
    assert.equal(
      (
        await call(
          "reader",
          "POST",
          "/api/models/lab/secret-model/commit/main",
          commitLine("r.txt"),
          "application/x-ndjson",
        )
      ).status,
      403,
    );
    assert.equal(
      (
        await call(
          "writer",
          "POST",
          "/api/models/lab/secret-model/commit/main",
          commitLine("w.txt"),
          "application/x-ndjson",
        )
      ).status,
      200,
    );
    assert.equal(
      (
        await call(
          "outsider",
          "POST",
          "/api/models/lab/secret-model/commit/main",
          commitLine("o.txt"),
          "application/x-ndjson",
        )
      ).status,
      404,
    );
    assert.equal((await call("reader", "POST", "/api/repos/create", { name: "new", organization: "lab" })).status, 403);
    assert.equal((await call("writer", "POST", "/api/repos/create", { name: "new", organization: "lab" })).status, 200);
    const me = (await (await call("reader", "GET", "/api/whoami-v2")).json()) as {
      orgs: Array<{ name: string; roleInOrg: string }>;
    };
    assert.deepEqual(
      me.orgs.map((o) => [o.name, o.roleInOrg]),
      [["lab", "read"]],
    );
    const listed = (await (await call("reader", "GET", "/api/models?author=lab")).json()) as Array<{ id: string }>;
    assert.deepEqual(listed.map((r) => r.id).sort(), ["lab/new", "lab/secret-model"]);
    const anon = (await (await fetch(`${hub.url}/api/models?author=lab`)).json()) as Array<{ id: string }>;
    assert.deepEqual(
      anon.map((r) => r.id),
      ["lab/new"],
    );
  });

  it("branches with slashes arrive %2F-encoded; HEAD means the default branch", async () => {
    assert.equal((await call("writer", "POST", "/api/models/lab/new/branch/feature%2Fx", {})).status, 200);
    const res = await call(
      "writer",
      "POST",
      "/api/models/lab/new/commit/feature%2Fx",
      commitLine("only-on-feature.txt"),
      "application/x-ndjson",
    );
    assert.equal(res.status, 200);
    const oid = ((await res.json()) as { commitOid: string }).commitOid;
    const onBranch = await fetch(`${hub.url}/lab/new/resolve/feature%2Fx/only-on-feature.txt`, { method: "HEAD" });
    assert.equal(onBranch.headers.get("x-repo-commit"), oid);
    const onMain = await fetch(`${hub.url}/lab/new/resolve/main/only-on-feature.txt`, { method: "HEAD" });
    assert.equal(onMain.headers.get("x-error-code"), "EntryNotFound");
    const tree = (await (await fetch(`${hub.url}/api/models/lab/new/tree/feature%2Fx`)).json()) as Array<{
      path: string;
    }>;
    assert.ok(tree.some((e) => e.path === "only-on-feature.txt"));
    const head = (await (await fetch(`${hub.url}/api/models/lab/new/revision/HEAD`)).json()) as { sha: string };
    const main = (await (await fetch(`${hub.url}/api/models/lab/new/revision/main`)).json()) as { sha: string };
    assert.equal(head.sha, main.sha);
    const bySha = await fetch(`${hub.url}/api/models/lab/new/revision/${oid}`);
    assert.equal(((await bySha.json()) as { sha: string }).sha, oid);
    assert.equal(
      (await fetch(`${hub.url}/api/models/lab/new/revision/--help`)).headers.get("x-error-code"),
      "RevisionNotFound",
    );
  });
});
