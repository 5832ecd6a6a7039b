/**
 * Spaces under stress: a dependency-free probe app (test/spaces/probe) pushed twice, as `probe`
 * and as its `neighbor`, tries what a hostile app would: read the hub's files, reach the hub's
 * port and the other Space without the proxy, write and allocate without bound, crash. Also:
 * secrets reach the process and nothing the hub shows; build errors; pause, restart, delete, sleep.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RepoRow } from "../src/db/types.ts";
import type { RuntimeInfo, SpaceManager } from "../src/spaces/manager.ts";
import { uidFor } from "../src/spaces/sandbox.ts";
import { lfsSkip, SpacesEnv, spacesDir, until } from "./spaces-env.ts";

type Probe = { ok: boolean; code?: string; bytes?: number; files?: number };

describe("Spaces sandbox", { skip: lfsSkip }, () => {
  const env = new SpacesEnv();
  const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
  const manager = () => env.hub.app.hub.spaces as SpaceManager;
  const probe = <T = Probe>(path: string, space = "probe") => env.appJson<T>(space, path);
  const alive = async () => {
    assert.equal((await fetch(`${env.url}/api/whoami-v2`, { headers: env.auth() })).status, 200);
    assert.match(await (await fetch(`${env.url}/spaces/admin/neighbor/app/`)).text(), /hello from the probe/);
  };

  before(async () => {
    await env.start({ memoryMb: 256, diskMb: 16, backoffMs: 300, idleMs: 120_000 });
    for (const n of ["probe", "neighbor", "broken"]) await env.createSpace(n);
    // secrets and variables exist before the first build, so the first start sees them
    await env.setting("probe", "secrets", "SECRET_TOKEN", secret);
    await env.setting("probe", "variables", "GREETING", "hi there");
    const [a, b] = await Promise.all([
      env.push("probe", join(spacesDir, "probe")),
      env.push("neighbor", join(spacesDir, "probe")),
    ]);
    await Promise.all([env.running("probe", a), env.running("neighbor", b)]);
  });
  after(() => env.close());

  it("secrets and variables reach the process; no log, page or API response shows a secret", async () => {
    assert.equal(
      (await probe<{ sha256: string }>("/secret")).sha256,
      createHash("sha256").update(secret).digest("hex"),
    );
    assert.match(await (await fetch(`${env.url}/spaces/admin/probe/app/`)).text(), /greeting hi there/);
    const runLog = await env.log("probe", "run");
    assert.match(runLog, /secret seen by the app: \*\*\*/);
    const cookie = await env.signIn();
    const get = async (path: string, headers: Record<string, string> = {}) =>
      (await fetch(`${env.url}${path}`, { headers })).text();
    const shown = [
      runLog,
      await env.log("probe", "build"),
      await get("/spaces/admin/probe", { cookie }),
      await get("/spaces/admin/probe/settings", { cookie }),
      await get("/api/spaces/admin/probe/secrets", env.auth()),
      await get("/api/spaces/admin/probe/variables", env.auth()),
      await get("/api/spaces/admin/probe/runtime"),
      await get("/api/spaces/admin/probe"),
    ];
    for (const [i, text] of shown.entries()) assert.ok(!text.includes(secret), `response ${i} leaks the secret`);
    assert.match(shown[3] as string, /<code>SECRET_TOKEN<\/code><\/td><td><span class="muted">hidden<\/span>/);
    assert.match(shown[4] as string, /"key":"SECRET_TOKEN"/);
    assert.match(shown[5] as string, /"GREETING":\{"value":"hi there"/);
    assert.match(shown[2] as string, /id="log-run"/);
    // variables and secrets set in the UI (a signed-in owner's form posts); each change restarts the app
    const restarts = (await env.runtime("probe")).restarts;
    const form = (path: string, body: Record<string, string>) =>
      fetch(`${env.url}/spaces/admin/probe/settings/${path}`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams(body),
        redirect: "manual",
      });
    assert.equal((await form("variables", { key: "OTHER", value: "x", description: "" })).status, 303);
    const bad = await form("secrets", { key: "PORT", value: "1" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /role="alert">add secrets: key &#39;PORT&#39; is reserved for the hub/);
    const vars = async () =>
      (await (await fetch(`${env.url}/api/spaces/admin/probe/variables`, { headers: env.auth() })).json()) as Record<
        string,
        { value: string }
      >;
    assert.equal((await vars()).OTHER?.value, "x");
    assert.equal((await form("variables/delete", { key: "OTHER" })).status, 303);
    assert.deepEqual(Object.keys(await vars()), ["GREETING"]);
    await until("the two restarts", async () => {
      const rt = await env.runtime("probe");
      return rt.stage === "RUNNING" && rt.restarts === restarts + 2;
    });
    assert.equal((await fetch(`${env.url}/spaces/admin/probe/settings`)).status, 401);
    // anonymous callers may not read logs or secrets
    assert.equal((await fetch(`${env.url}/api/spaces/admin/probe/logs/run?follow=0`)).status, 401);
    assert.equal((await fetch(`${env.url}/api/spaces/admin/probe/secrets`)).status, 401);
  });

  it("a crash restarts the app (with backoff)", async () => {
    const before = await env.runtime("probe");
    const r = await fetch(`${env.url}/spaces/admin/probe/app/crash`).catch(() => undefined);
    assert.notEqual(r?.status, 200);
    const after = await until("a restart", async () => {
      const rt = await env.runtime("probe");
      return rt.stage === "RUNNING" && rt.restarts > before.restarts && rt;
    });
    assert.equal(after.sha, before.sha);
    assert.match(await (await fetch(`${env.url}/spaces/admin/probe/app/`)).text(), /hello from the probe/);
    const log = await env.log("probe", "run");
    assert.match(log, /the app exited \(exit code 3\)/);
    assert.match(log, /restarting in 0\.3 s \(crash 1\)/);
  });

  it("files: reads outside the app folder are refused; the hub's credentials and environment stay out", async () => {
    assert.deepEqual(await probe("/read?path=app.mjs"), {
      ok: true,
      bytes: (await readFile(join(spacesDir, "probe", "app.mjs"))).length,
    });
    const neighborRow = await env.hub.app.hub.db.getRepo("space", "admin", "neighbor");
    for (const outside of [
      join(env.hub.dataDir, "hub.sqlite"),
      join(env.hub.dataDir, "secret"),
      "/etc/passwd",
      join(manager().runDir, neighborRow?.id ?? "x"),
    ])
      assert.deepEqual(await probe(`/read?path=${encodeURIComponent(outside)}`), {
        ok: false,
        code: "ERR_ACCESS_DENIED",
      });
    // below the permission model, file modes: the Space's uid cannot open the hub's files either
    if (manager().caps.uid) {
      const probeRow = await env.hub.app.hub.db.getRepo("space", "admin", "probe");
      const uid = uidFor(probeRow?.id ?? "", manager().opts.uidBase);
      const cat = spawnSync("setpriv", [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        "--clear-groups",
        "cat",
        join(env.hub.dataDir, "hub.sqlite"),
      ]);
      assert.notEqual(cat.status, 0);
      assert.match(cat.stderr.toString(), /Permission denied/);
    }
    const cookie = await env.signIn();
    const seen = await fetch(`${env.url}/spaces/admin/probe/app/headers`, {
      headers: { ...env.auth(), cookie: `${cookie}; other=1` },
    });
    const echoed = (await seen.json()) as { headers: Record<string, string>; env: string[] };
    assert.equal(echoed.headers.authorization, undefined);
    assert.equal(echoed.headers.cookie, "other=1");
    assert.equal(echoed.headers["x-forwarded-prefix"], "/spaces/admin/probe/app");
    assert.deepEqual(seen.headers.getSetCookie(), ["probe=1; Path=/"]);
    // a scrubbed environment: what the hub sets and the Space's settings, nothing of the hub's own
    assert.deepEqual(
      echoed.env.filter(
        (k) =>
          ![
            "HOME",
            "HOST",
            "PATH",
            "PORT",
            "NODE_ENV",
            "HEARTH_BACKEND",
            "CPU_CORES",
            "MEMORY",
            "SECRET_TOKEN",
            "GREETING",
          ].includes(k) && !k.startsWith("SPACE_"),
      ),
      [],
    );
    // WebSocket through the proxy
    assert.equal(await env.wsEcho(`/spaces/admin/probe/app/ws`, "ping"), "echo: ping");
  });

  it("network: the app reaches neither the hub's port nor another Space except through the proxy", async (t) => {
    const m = manager();
    const log = await env.log("probe", "run");
    if (!m.caps.net) {
      assert.match(log, /warning: network not confined/);
      t.diagnostic(`network confinement unavailable here (${m.caps.netReason}); the app can reach loopback`);
      return;
    }
    assert.match(log, /network: own namespace, loopback only/);
    // a listener of the test on every interface, beside the hub's on loopback
    const outside = createServer((s) => s.end("hi"));
    await new Promise<void>((r) => outside.listen(0, "0.0.0.0", r));
    try {
      const open = (outside.address() as AddressInfo).port;
      const hubPort = new URL(env.url).port;
      // the test itself reaches both ...
      assert.equal((await fetch(`${env.url}/api/whoami-v2`, { headers: env.auth() })).status, 200);
      await new Promise<void>((resolve, reject) => connect(open, "127.0.0.1", resolve).on("error", reject).end());
      // ... the app reaches neither: its namespace has only its own loopback
      for (const q of [`port=${hubPort}`, `port=${open}`])
        assert.deepEqual(await probe(`/connect?${q}`), { ok: false, code: "ECONNREFUSED" }, q);
      // IPv6 loopback too (refused, or unavailable where the kernel has IPv6 off)
      assert.equal((await probe(`/connect?port=${hubPort}&host=::1`)).ok, false);
      const lan = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === "IPv4" && !i.internal);
      if (lan) assert.equal((await probe(`/connect?port=${open}&host=${lan.address}`)).code, "ENETUNREACH");
      // another Space: its app listens on the same port in its own namespace, so that port is the
      // probe's own; and the socket the hub reaches it through is out of reach
      const neighbor = await m.get((await env.hub.app.hub.db.getRepo("space", "admin", "neighbor")) as RepoRow);
      const self = await m.get((await env.hub.app.hub.db.getRepo("space", "admin", "probe")) as RepoRow);
      assert.deepEqual([neighbor.port, self.port], [7860, 7860]);
      const sock = neighbor.socketPath as string;
      assert.ok(existsSync(sock));
      const viaSocket = await probe(`/connect?path=${encodeURIComponent(sock)}`);
      assert.equal(viaSocket.ok, false);
      t.diagnostic(`the neighbour's socket from the probe: ${viaSocket.code}`);
      // while the proxy reaches both apps
      assert.match(await (await fetch(`${env.url}/spaces/admin/probe/app/`)).text(), /hello from the probe/);
      await alive();
    } finally {
      outside.close();
    }
  });

  it("disk: one file and the whole data folder are capped; the app, the hub and other Spaces keep answering", async (t) => {
    const m = manager();
    const MiB = 1024 * 1024;
    // one file: the kernel refuses the write that would pass 16 MiB (RLIMIT_FSIZE)
    if (m.caps.prlimit) assert.deepEqual(await probe("/fill"), { ok: false, code: "EFBIG", bytes: 16 * MiB });
    if (m.caps.mount) {
      // many files: the data tmpfs (16 MiB, the big file still in it) is full
      const many = await probe("/fill-many");
      assert.equal(many.code, "ENOSPC");
      assert.ok((many.bytes as number) < MiB, `wrote ${many.bytes} more bytes into a full data folder`);
      assert.match(await env.log("probe", "run"), /disk: data\/ is a 16 MiB tmpfs/);
    } else t.diagnostic(`no size-limited data folder here (${m.caps.mountReason}): only one file is capped`);
    assert.match(await (await fetch(`${env.url}/spaces/admin/probe/app/`)).text(), /hello from the probe/);
    await alive();
    // each Space has its own data folder: the neighbour still has its 16 MiB
    if (m.caps.mount) {
      const other = await probe("/fill-many", "neighbor");
      assert.equal(other.code, "ENOSPC");
      assert.ok((other.bytes as number) >= 15 * MiB, `the neighbour wrote only ${other.bytes} bytes`);
    }
  });

  it("without namespaces (no unshare or ip here): the app runs on loopback and its run log says what is not confined", async () => {
    const m = manager();
    const caps = m.caps;
    const bearer = { Authorization: `Bearer ${env.token}` };
    m.caps = { ...caps, net: false, netReason: "ip (iproute2) is not installed", mount: false, mountReason: "test" };
    try {
      await fetch(`${env.url}/api/spaces/admin/neighbor/restart`, { method: "POST", headers: bearer });
      const log = await env.log("neighbor", "run");
      assert.match(log, /warning: network not confined \(ip \(iproute2\) is not installed\): the app can reach/);
      assert.match(log, /warning: data\/ is not size-capped \(test\); files up to 16 MiB/);
      const neighbor = await m.get((await env.hub.app.hub.db.getRepo("space", "admin", "neighbor")) as RepoRow);
      assert.equal(neighbor.socketPath, undefined);
      assert.notEqual(neighbor.port, 7860);
      assert.match(await (await fetch(`${env.url}/spaces/admin/neighbor/app/`)).text(), /hello from the probe/);
      // unconfined, it reaches the hub's port
      assert.deepEqual(await probe(`/connect?port=${new URL(env.url).port}`, "neighbor"), { ok: true });
    } finally {
      m.caps = caps;
      await fetch(`${env.url}/api/spaces/admin/neighbor/restart`, { method: "POST", headers: bearer });
    }
    await alive();
  });

  it("memory: an unbounded allocation is stopped, the rest keeps answering, the app comes back", async (t) => {
    const hog = await fetch(`${env.url}/spaces/admin/probe/app/hog`).catch(() => undefined);
    assert.notEqual(hog?.status, 200);
    const stopped = await until("the memory stop", async () => {
      const rt = await env.runtime("probe");
      return /memory limit \(256 MiB\) exceeded/.test(rt.errorMessage ?? "") && rt;
    });
    t.diagnostic(`probe: ${stopped.errorMessage}; sandbox ${JSON.stringify(manager().caps)}`);
    await alive();
    await until("the probe restarted", async () => (await env.runtime("probe")).stage === "RUNNING");
    assert.match(await (await fetch(`${env.url}/spaces/admin/probe/app/`)).text(), /hello from the probe/);
  });

  it("a dependency nobody can serve offline is a build error; the hub shows it, other Spaces run on", async () => {
    const src = await mkdtemp(join(tmpdir(), "hearth-broken-"));
    await writeFile(join(src, "README.md"), "---\nsdk: node\napp_file: app.mjs\n---\n");
    await writeFile(join(src, "app.mjs"), "import 'hearth-no-such-package';\n");
    await writeFile(join(src, "package.json"), JSON.stringify({ dependencies: { "hearth-no-such-package": "1.0.0" } }));
    await env.push("broken", src);
    await rm(src, { recursive: true, force: true });
    const rt = await until("BUILD_ERROR", async () => {
      const x = await env.runtime("broken");
      return x.stage === "BUILD_ERROR" && x;
    });
    assert.equal(rt.errorMessage, "build failed: npm install failed (exit code 1)");
    const log = await env.log("broken", "build");
    assert.match(log, /npm install hearth-no-such-package@1\.0\.0/);
    assert.match(log, /ENOTCACHED|offline/i);
    const page = await (await fetch(`${env.url}/spaces/admin/broken`)).text();
    assert.match(page, /id="space-stage" role="status">build error</);
    assert.match(page, /<div class="error" id="space-error">build failed: npm install failed/);
    assert.equal((await fetch(`${env.url}/spaces/admin/broken/app/`)).status, 503);
    await alive();
  });

  it("pause, restart, CPU cap, and deleting a Space stops its app", async () => {
    const m = manager();
    const row = await env.hub.app.hub.db.getRepo("space", "admin", "probe");
    const brokenRow = await env.hub.app.hub.db.getRepo("space", "admin", "broken");
    if (m.caps.cgroup === "v1")
      assert.equal(
        (await readFile(`/sys/fs/cgroup/cpu/hearth-space-${row?.id}/cpu.cfs_quota_us`, "utf8")).trim(),
        "50000",
      );
    const bearer = { Authorization: `Bearer ${env.token}` };
    const paused = await fetch(`${env.url}/api/spaces/admin/probe/pause`, { method: "POST", headers: bearer });
    assert.equal(((await paused.json()) as RuntimeInfo).stage, "PAUSED");
    assert.equal((await fetch(`${env.url}/spaces/admin/probe/app/`)).status, 503);
    assert.equal((await fetch(`${env.url}/api/spaces/admin/probe/pause`, { method: "POST" })).status, 401);
    const restarted = await fetch(`${env.url}/api/spaces/admin/probe/restart`, { method: "POST", headers: bearer });
    assert.equal(((await restarted.json()) as RuntimeInfo).stage, "RUNNING");
    assert.equal((await fetch(`${env.url}/spaces/admin/probe/app/`)).status, 200);
    const del = await fetch(`${env.url}/api/repos/delete`, {
      method: "DELETE",
      headers: env.auth(),
      body: JSON.stringify({ name: "broken", organization: "admin", type: "space" }),
    });
    assert.equal(del.status, 200);
    assert.equal((await fetch(`${env.url}/api/spaces/admin/broken/runtime`, { headers: bearer })).status, 404);
    const brokenDir = join(m.runDir, brokenRow?.id ?? "x");
    await until("the working copy removed", async () => !existsSync(brokenDir), 5000);
  });

  it("an idle app sleeps and the next request wakes it", async () => {
    const m = manager();
    const idle = m.opts.idleMs;
    m.opts.idleMs = 200;
    try {
      await until("sleep", async () => (await env.runtime("probe")).stage === "SLEEPING", 10_000);
    } finally {
      m.opts.idleMs = idle;
    }
    const r = await fetch(`${env.url}/spaces/admin/probe/app/`);
    assert.equal(r.status, 200);
    assert.equal((await env.runtime("probe")).stage, "RUNNING");
  });
});
