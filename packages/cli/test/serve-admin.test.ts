import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { type RunningHub, serve } from "@hearth/hub-server";
import { main } from "../src/index.ts";

const BIN = join(import.meta.dirname, "..", "bin", "hearth.mjs");

async function hearth(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const stdin = Readable.from([]) as unknown as NodeJS.ReadStream;
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stdin, isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

async function whoami(url: string, token: string) {
  const r = await fetch(`${url}/api/whoami-v2`, { headers: { authorization: `Bearer ${token}` } });
  return {
    status: r.status,
    body: r.ok ? ((await r.json()) as { name: string; auth: { accessToken: { role: string } } }) : undefined,
  };
}

describe("hearth serve", () => {
  test("--help exits 0, bad options exit 2", async () => {
    const help = await hearth(["serve", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.out, /hearth serve \[--port N\] \[--data DIR\]/);
    assert.equal((await hearth(["serve", "--port", "http"])).code, 2);
    assert.equal((await hearth(["serve", "--port", "70000"])).code, 2);
    assert.equal((await hearth(["serve", "--frob"])).code, 2);
    assert.equal((await hearth(["serve", "extra"])).code, 2);
  });

  test("the bin serves a data folder, writes admin-token 0600, and exits 0 on SIGTERM", async () => {
    const data = mkdtempSync(join(tmpdir(), "hearth-serve-"));
    let child: ReturnType<typeof spawn> | undefined;
    try {
      child = spawn(process.execPath, [BIN, "serve", "--port", "0", "--no-seed"], {
        env: { ...process.env, HEARTH_HOME: data, PORT: undefined },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      let stderr = "";
      const proc = child;
      proc.stderr?.on("data", (c) => {
        stderr += c;
      });
      const url = await new Promise<string>((ok, fail) => {
        proc.stdout?.on("data", (c) => {
          stdout += c;
          const m = /listening on (http:\/\/\S+)/.exec(stdout);
          if (m) ok(m[1] as string);
        });
        proc.on("exit", (code) => fail(new Error(`serve exited ${code}: ${stderr}`)));
      });
      const tokenFile = join(data, "admin-token");
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      const token = readFileSync(tokenFile, "utf8").trim();
      const me = await whoami(url, token);
      assert.equal(me.status, 200);
      assert.equal(me.body?.name, "admin");
      assert.deepEqual(await (await fetch(`${url}/api/models`)).json(), [], "--no-seed seeds nothing");
      const exited = new Promise<number | null>((ok) => proc.on("exit", ok));
      proc.kill("SIGTERM");
      assert.equal(await exited, 0);
      assert.match(stdout, /Created admin user 'admin'/);
    } finally {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      rmSync(data, { recursive: true, force: true });
    }
  });
});

describe("hearth user / token / org on a data folder", () => {
  let data: string;
  let hub: RunningHub;
  before(async () => {
    data = mkdtempSync(join(tmpdir(), "hearth-admin-"));
    hub = await serve({ port: 0, data, seed: false });
  });
  after(async () => {
    await hub.close();
    rmSync(data, { recursive: true, force: true });
  });

  test("help and usage errors", async () => {
    for (const c of ["user", "token", "org"]) {
      const h = await hearth([c, "--help"]);
      assert.equal(h.code, 0, c);
      assert.match(h.out, new RegExp(`hearth ${c} <`));
      assert.equal((await hearth([c])).code, 2);
      assert.equal((await hearth([c, "frob"])).code, 2);
      assert.equal((await hearth([c, "create", "--help"])).code, 0);
    }
    assert.equal((await hearth(["user", "create", "--data", data])).code, 2, "missing NAME");
    assert.equal((await hearth(["token", "create", "t", "--role", "admin", "--data", data])).code, 2);
    assert.equal((await hearth(["user", "create", "x", "--password", "short", "--data", data])).code, 2);
  });

  test("users, tokens with read/write roles, revocation, organisations; tokens work on the live server", async () => {
    const created = await hearth(["user", "create", "alice", "--email", "a@example.org", "--json", "--data", data]);
    assert.equal(created.code, 0, created.err);
    const alice = JSON.parse(created.out) as { name: string; token: string; role: string };
    assert.equal(alice.role, "write");
    assert.equal((await whoami(hub.url, alice.token)).body?.name, "alice");

    const dup = await hearth(["user", "create", "alice", "--data", data]);
    assert.equal(dup.code, 7);
    assert.match(dup.err, /already taken|exists/);
    assert.equal((await hearth(["user", "create", "bad/name", "--data", data])).code, 2);

    const list = await hearth(["user", "list", "--json", "--data", data]);
    assert.deepEqual(
      (JSON.parse(list.out) as { name: string; isAdmin: boolean }[]).map((u) => [u.name, u.isAdmin]),
      [
        ["admin", true],
        ["alice", false],
      ],
    );

    const read = await hearth(["token", "create", "ci", "--user", "alice", "--role", "read", "--json", "--data", data]);
    assert.equal(read.code, 0, read.err);
    const ci = JSON.parse(read.out) as { id: string; token: string; role: string };
    const seen = await whoami(hub.url, ci.token);
    assert.equal(seen.body?.name, "alice");
    assert.equal(seen.body?.auth.accessToken.role, "read");
    const push = await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      headers: { authorization: `Bearer ${ci.token}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "m", type: "model" }),
    });
    assert.equal(push.status, 403, "a read token cannot create repos");

    const tokens = await hearth(["token", "list", "--user", "alice", "--json", "--data", data]);
    assert.deepEqual(
      (JSON.parse(tokens.out) as { name: string; role: string }[]).map((t) => [t.name, t.role]),
      [
        ["default", "write"],
        ["ci", "read"],
      ],
    );
    assert.doesNotMatch(tokens.out, new RegExp(ci.token), "secrets are never listed");

    assert.equal((await hearth(["token", "revoke", ci.id, "--user", "alice", "--data", data])).code, 0);
    assert.equal((await whoami(hub.url, ci.token)).status, 401, "a revoked token stops working");
    assert.equal((await hearth(["token", "revoke", ci.id, "--user", "alice", "--data", data])).code, 3);
    assert.equal((await hearth(["token", "list", "--user", "nobody", "--data", data])).code, 3);

    const adminTok = await hearth(["token", "create", "ops", "--data", data]);
    assert.equal(adminTok.code, 0);
    assert.match(adminTok.out, /write token 'ops' .* for 'admin'/);

    const org = await hearth(["org", "create", "acme", "--owner", "alice", "--data", data]);
    assert.equal(org.code, 0, org.err);
    const mine = (await whoami(hub.url, alice.token)).body as unknown as {
      orgs: { name: string; roleInOrg: string }[];
    };
    assert.deepEqual(
      mine.orgs.map((o) => [o.name, o.roleInOrg]),
      [["acme", "admin"]],
    );
    assert.equal((await hearth(["org", "create", "acme", "--data", data])).code, 7);
    assert.equal((await hearth(["org", "create", "alice", "--data", data])).code, 7, "a user's name is taken");
  });
});
