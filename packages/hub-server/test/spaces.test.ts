/**
 * Spaces end to end: real `git push` (with git-lfs for the model weights) to the in-process hub,
 * a static Space and two node Spaces built and run confined, the demo page driven by headless
 * Chromium, /api/predict, redeploy on push, crash restart, the sandbox, secrets.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { RuntimeInfo, SpaceManager } from "../src/spaces/manager.ts";
import { uidFor } from "../src/spaces/sandbox.ts";
import { Browser, chromiumPath } from "./cdp.ts";
import { createUser, startHub, type TestHub } from "./helpers.ts";

const hasLfs = spawnSync("git", ["lfs", "version"]).status === 0;
const here = join(import.meta.dirname, "spaces");
const tinyBert = join(import.meta.dirname, "..", "..", "..", "fixtures", "hf-tiny", "models", "bert-seqcls");

let gitconfig = "";
function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd,
        encoding: "utf8",
        timeout: 60_000,
        env: { ...process.env, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: gitconfig, GIT_TERMINAL_PROMPT: "0" },
      },
      (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(" ")}: ${stderr}`)) : resolve(stdout)),
    );
  });
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}

describe("Spaces", { skip: hasLfs ? false : "git-lfs is not installed (apt-get install git-lfs)" }, () => {
  let hub: TestHub;
  let token: string;
  let work: string;
  const secret = `s3cr3t-${randomBytes(8).toString("hex")}`;
  const auth = () => ({ Authorization: `Bearer ${token}`, "Content-Type": "application/json" });
  const runtime = async (name: string) =>
    (await (await fetch(`${hub.url}/api/spaces/admin/${name}/runtime`)).json()) as RuntimeInfo;
  const predict = (name: string, text: string) =>
    fetch(`${hub.url}/spaces/admin/${name}/app/api/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data: [text] }),
    });

  async function createSpace(name: string): Promise<void> {
    const r = await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({ name, type: "space", sdk: "static" }),
    });
    assert.equal(r.status, 200, await r.text());
  }

  /** Clones the Space, copies `src` over it (plus extra files), commits and pushes; returns the commit. */
  async function push(name: string, src: string, extra: string[] = [], message = "deploy"): Promise<string> {
    const dir = join(work, name);
    await rm(dir, { recursive: true, force: true });
    const url = new URL(`${hub.url}/spaces/admin/${name}`);
    url.username = "admin";
    url.password = token;
    await git(work, "clone", url.href, dir);
    await cp(src, dir, { recursive: true });
    for (const f of extra) await cp(f, join(dir, f.split("/").pop() as string));
    await git(dir, "add", "-A");
    await git(dir, "commit", "-m", message);
    await git(dir, "push", "origin", "main");
    return (await git(dir, "rev-parse", "HEAD")).trim();
  }

  async function running(name: string, sha: string): Promise<RuntimeInfo> {
    return until(`${name} RUNNING at ${sha.slice(0, 7)}`, async () => {
      const rt = await runtime(name);
      return rt.stage === "RUNNING" && rt.sha === sha && rt;
    });
  }

  before(async () => {
    hub = await startHub({
      // --offline: tests never reach a registry; dependencies come from the workspace
      spaces: {
        memoryMb: 256,
        backoffMs: 300,
        idleMs: 120_000,
        originDomain: "spaces.localhost",
        npmArgs: ["--offline"],
      },
    });
    token = (await createUser(hub.app, { name: "admin", isAdmin: true, password: "correct horse battery" })).token;
    work = await mkdtemp(join(tmpdir(), "hearth-spaces-"));
    gitconfig = join(work, "gitconfig");
    await writeFile(gitconfig, "[user]\n\tname = Admin\n\temail = admin@example.org\n[init]\n\tdefaultBranch = main\n");
    await git(work, "lfs", "install", "--skip-repo");
    for (const n of ["hello", "classifier", "probe", "broken"]) await createSpace(n);
    // secrets and variables exist before the first build, so the first start sees them
    for (const [kind, key, value] of [
      ["secrets", "SECRET_TOKEN", secret],
      ["variables", "CRASH_WORD", "crash now"],
    ] as const) {
      const r = await fetch(`${hub.url}/api/spaces/admin/classifier/${kind}`, {
        method: "POST",
        headers: auth(),
        body: JSON.stringify({ key, value, description: `${key} for the test` }),
      });
      assert.equal(r.status, 200, await r.text());
    }
  });
  after(async () => {
    await hub.close();
    await rm(work, { recursive: true, force: true });
  });

  it("a static Space is served from the repo at the latest commit, also at its own origin", async () => {
    const sha = await push("hello", join(here, "static"));
    await running("hello", sha);
    const r = await fetch(`${hub.url}/spaces/admin/hello/app/`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(r.headers.get("content-security-policy") ?? "", /^sandbox allow-scripts/);
    assert.match(await r.text(), /Hello from a static Space \(v1\)/);
    assert.match(
      (await fetch(`${hub.url}/spaces/admin/hello/app/style.css`)).headers.get("content-type") ?? "",
      /text\/css/,
    );
    assert.match(await (await fetch(`${hub.url}/spaces/admin/hello/app/sub/`)).text(), /A sub page/);
    assert.equal((await fetch(`${hub.url}/spaces/admin/hello/app/nope.html`)).status, 404);
    const redirect = await fetch(`${hub.url}/spaces/admin/hello/app`, { redirect: "manual" });
    assert.equal(redirect.headers.get("location"), "/spaces/admin/hello/app/");
    // per-Space origin
    const viaOrigin = await new Promise<string>((resolve, reject) => {
      const u = new URL(hub.url);
      request(
        { host: u.hostname, port: u.port, path: "/", headers: { host: `admin--hello.spaces.localhost:${u.port}` } },
        (res) => {
          let t = "";
          res.on("data", (c) => {
            t += c;
          });
          res.on("end", () => resolve(t));
        },
      )
        .on("error", reject)
        .end();
    });
    assert.match(viaOrigin, /Hello from a static Space/);
    // the hub page: status, embedded app, linked model
    const page = await (await fetch(`${hub.url}/spaces/admin/hello`)).text();
    assert.match(page, /id="space-stage" role="status">running</);
    assert.match(
      page,
      new RegExp(
        `<iframe class="app" id="space-app" title="Static hello \\(Space app\\)" src="http://admin--hello\\.spaces\\.localhost:${new URL(hub.url).port}/" sandbox="allow-scripts allow-forms allow-popups allow-downloads allow-modals allow-same-origin">`,
      ),
    );
    assert.match(page, /<a class="badge" href="\/admin\/tiny-bert">model: admin\/tiny-bert<\/a>/);
    // a new commit is served at once
    const dir = join(work, "hello");
    await writeFile(join(dir, "index.html"), (await readFile(join(dir, "index.html"), "utf8")).replace("(v1)", "(v2)"));
    await git(dir, "commit", "-am", "v2");
    await git(dir, "push", "origin", "main");
    assert.match(await (await fetch(`${hub.url}/spaces/admin/hello/app/`)).text(), /\(v2\)/);
    const info = (await (await fetch(`${hub.url}/api/spaces/admin/hello`)).json()) as {
      sdk: string;
      runtime: RuntimeInfo;
    };
    assert.deepEqual([info.sdk, info.runtime.stage], ["static", "RUNNING"]);
  });

  it("a node Space built with @hearth/spaces: built from a git push, /api/predict, secrets kept out of logs and pages", async () => {
    const sha = await push("classifier", join(here, "classifier"), [
      join(tinyBert, "config.json"),
      join(tinyBert, "model.safetensors"),
    ]);
    await running("classifier", sha);
    const r = await predict("classifier", "what a lovely day");
    assert.equal(r.status, 200);
    const { data } = (await r.json()) as {
      data: [Record<string, number>, { tokens: number; version: string; secretSha256: string }];
    };
    const [scores, details] = data;
    assert.deepEqual(Object.keys(scores).sort(), ["LABEL_0", "LABEL_1", "LABEL_2"]);
    assert.ok(Math.abs(Object.values(scores).reduce((a, b) => a + b, 0) - 1) < 1e-5);
    assert.deepEqual([details.tokens, details.version], [4, "v1"]);
    // the secret reached the app process
    assert.equal(details.secretSha256, createHash("sha256").update(secret).digest("hex"));
    // ... and nothing the hub shows contains it
    const runLog = await (
      await fetch(`${hub.url}/api/spaces/admin/classifier/logs/run?follow=0`, { headers: auth() })
    ).text();
    assert.match(runLog, /secret seen by the app: \*\*\*/);
    const buildLog = await (
      await fetch(`${hub.url}/api/spaces/admin/classifier/logs/build?follow=0`, { headers: auth() })
    ).text();
    assert.match(buildLog, /copied @hearth\/spaces from the workspace package\\n/);
    assert.match(buildLog, /copied @hearth\/tensor from the workspace package\\n/);
    assert.match(buildLog, /copied yaml from the workspace node_modules \(2\.\d+\.\d+ for \^2\.0\.0\)/);
    assert.doesNotMatch(buildLog, /npm install/);
    assert.match(buildLog, /build succeeded/);
    const cookie = await signIn();
    const shown = [
      runLog,
      buildLog,
      await (await fetch(`${hub.url}/spaces/admin/classifier`, { headers: { cookie } })).text(),
      await (await fetch(`${hub.url}/spaces/admin/classifier/settings`, { headers: { cookie } })).text(),
      await (await fetch(`${hub.url}/api/spaces/admin/classifier/secrets`, { headers: auth() })).text(),
      await (await fetch(`${hub.url}/api/spaces/admin/classifier/variables`, { headers: auth() })).text(),
      await (await fetch(`${hub.url}/api/spaces/admin/classifier/runtime`)).text(),
      await (await fetch(`${hub.url}/api/spaces/admin/classifier`)).text(),
    ];
    for (const [i, text] of shown.entries()) assert.ok(!text.includes(secret), `response ${i} leaks the secret`);
    assert.match(shown[3] as string, /<code>SECRET_TOKEN<\/code><\/td><td><span class="muted">hidden<\/span>/);
    assert.match(shown[4] as string, /"key":"SECRET_TOKEN"/);
    assert.match(shown[5] as string, /"CRASH_WORD":\{"value":"crash now"/);
    const page = shown[2] as string;
    assert.match(page, /<a class="badge" href="\/datasets\/admin\/reviews">dataset: admin\/reviews<\/a>/);
    assert.match(page, /id="log-run"/);
    // variables and secrets set in the UI (a signed-in owner's form posts)
    const form = (path: string, body: Record<string, string>) =>
      fetch(`${hub.url}/spaces/admin/classifier/settings/${path}`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams(body),
        redirect: "manual",
      });
    assert.equal((await form("variables", { key: "GREETING", value: "hi", description: "" })).status, 303);
    const bad = await form("secrets", { key: "PORT", value: "1" });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /role="alert">add secrets: key &#39;PORT&#39; is reserved for the hub/);
    const vars = (await (
      await fetch(`${hub.url}/api/spaces/admin/classifier/variables`, { headers: auth() })
    ).json()) as Record<string, { value: string }>;
    assert.equal(vars.GREETING?.value, "hi");
    assert.equal((await form("variables/delete", { key: "GREETING" })).status, 303);
    const after = (await (
      await fetch(`${hub.url}/api/spaces/admin/classifier/variables`, { headers: auth() })
    ).json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(after), ["CRASH_WORD"]);
    assert.equal((await fetch(`${hub.url}/spaces/admin/classifier/settings`)).status, 401);
    // anonymous callers may not read logs or secrets
    assert.equal((await fetch(`${hub.url}/api/spaces/admin/classifier/logs/run?follow=0`)).status, 401);
    assert.equal((await fetch(`${hub.url}/api/spaces/admin/classifier/secrets`)).status, 401);
  });

  async function signIn(): Promise<string> {
    const ok = await fetch(`${hub.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "admin", password: "correct horse battery" }),
      redirect: "manual",
    });
    return (ok.headers.get("set-cookie") ?? "").split(";")[0] as string;
  }

  it("headless Chromium fills the demo form and reads the result", {
    skip: chromiumPath ? false : "chromium is not installed (apt-get install -y chromium)",
  }, async () => {
    const profile = await mkdtemp(join(tmpdir(), "hearth-chromium-"));
    const browser = await Browser.launch(profile);
    try {
      const s = await browser.open(`${hub.url}/spaces/admin/classifier/app/`);
      assert.equal(await browser.eval(s, "document.querySelector('label[for=in0]').textContent"), "Text");
      await browser.eval(
        s,
        "document.getElementById('in0').value = 'the worst film I have seen'; document.querySelector('#demo-form button[type=submit]').click(); true",
      );
      const status = await until(
        "the demo result",
        async () => {
          const t = (await browser.eval(s, "document.getElementById('status').textContent")) as string;
          return /^(Done|Error)/.test(t) && t;
        },
        30_000,
      );
      assert.match(status, /^Done in/);
      const label = (await browser.eval(s, "document.querySelector('#out0 .label-top').textContent")) as string;
      assert.match(label, /^LABEL_[012]$/);
      const details = JSON.parse((await browser.eval(s, "document.querySelector('#out1 pre').textContent")) as string);
      assert.deepEqual([details.tokens, details.version], [6, "v1"]);
      // the same input through the API gives the same top class
      const api = (await (await predict("classifier", "the worst film I have seen")).json()) as {
        data: [Record<string, number>];
      };
      const top = Object.entries(api.data[0]).sort((a, b) => b[1] - a[1])[0]?.[0];
      assert.equal(label, top);
      // the hub's Space page embeds the app
      const page = await browser.open(`${hub.url}/spaces/admin/classifier`);
      const origin = `http://admin--classifier.spaces.localhost:${new URL(hub.url).port}/`;
      assert.equal(await browser.eval(page, "document.getElementById('space-app').getAttribute('src')"), origin);
      // the per-Space origin (Chromium resolves *.localhost to loopback) serves the app itself
      // an owner sees the run log, streamed live (the script empties the server-rendered text, then appends events)
      const cookie = (await signIn()).split("=");
      await browser.send("Storage.setCookies", {
        cookies: [{ name: cookie[0], value: cookie.slice(1).join("="), url: hub.url }],
      });
      const owner = await browser.open(`${hub.url}/spaces/admin/classifier`);
      await until("live run log", async () =>
        /running on port \d+/.test(
          (await browser.eval(owner, "document.getElementById('log-run').textContent")) as string,
        ),
      );
      const shots = process.env.HEARTH_SCREENSHOT_DIR;
      if (shots) {
        await writeFile(join(shots, "space-demo.png"), await browser.screenshot(s));
        await new Promise((r) => setTimeout(r, 1500)); // let the embedded app paint
        await writeFile(join(shots, "space-page.png"), await browser.screenshot(owner));
      }
      const own = await browser.open(origin);
      assert.equal(await browser.eval(own, "document.querySelector('h1').textContent"), "Tiny classifier v1");
    } finally {
      await browser.close();
      await rm(profile, { recursive: true, force: true });
    }
  });

  it("a second push changes the app and the new version is served", async () => {
    const dir = join(work, "classifier");
    const app = join(dir, "app.ts");
    await writeFile(app, (await readFile(app, "utf8")).replace('const VERSION = "v1"', 'const VERSION = "v2"'));
    await git(dir, "commit", "-am", "v2");
    await git(dir, "push", "origin", "main");
    const sha = (await git(dir, "rev-parse", "HEAD")).trim();
    // while v2 builds, v1 keeps answering
    const during = await predict("classifier", "hello");
    assert.equal(during.status, 200);
    assert.match(((await during.json()) as { data: [unknown, { version: string }] }).data[1].version, /^v[12]$/);
    await running("classifier", sha);
    const { data } = (await (await predict("classifier", "hello")).json()) as { data: [unknown, { version: string }] };
    assert.equal(data[1].version, "v2");
    assert.match(await (await fetch(`${hub.url}/spaces/admin/classifier/app/`)).text(), /<h1>Tiny classifier v2<\/h1>/);
  });

  it("a crash restarts the app (with backoff)", async () => {
    const before = await runtime("classifier");
    const r = await predict("classifier", "crash now").catch(() => undefined);
    assert.notEqual(r?.status, 200);
    const after = await until("a restart", async () => {
      const rt = await runtime("classifier");
      return rt.stage === "RUNNING" && rt.restarts > before.restarts && rt;
    });
    assert.equal(after.sha, before.sha);
    assert.equal((await predict("classifier", "fine again")).status, 200);
    const log = await (
      await fetch(`${hub.url}/api/spaces/admin/classifier/logs/run?follow=0`, { headers: auth() })
    ).text();
    assert.match(log, /the app exited \(exit code 3\)/);
    assert.match(log, /restarting in 0\.3 s \(crash 1\)/);
  });

  it("the sandbox: reads outside the app folder are refused, an unbounded allocation is stopped, the rest keeps answering", async (t) => {
    const sha = await push("probe", join(here, "probe"));
    await running("probe", sha);
    const read = async (path: string) =>
      (await (await fetch(`${hub.url}/spaces/admin/probe/app/read?path=${encodeURIComponent(path)}`)).json()) as {
        ok: boolean;
        code?: string;
      };
    assert.deepEqual(await read("app.mjs"), {
      ok: true,
      bytes: (await readFile(join(here, "probe", "app.mjs"))).length,
    });
    const manager = hub.app.hub.spaces as SpaceManager;
    const classifierRow = await hub.app.hub.db.getRepo("space", "admin", "classifier");
    for (const outside of [
      join(hub.dataDir, "hub.sqlite"),
      join(hub.dataDir, "secret"),
      "/etc/passwd",
      join(manager.runDir, classifierRow?.id ?? "x"),
    ])
      assert.deepEqual(await read(outside), { ok: false, code: "ERR_ACCESS_DENIED" }, outside);
    // below the permission model, file modes: the Space's uid cannot open the hub's files either
    if (manager.caps.uid) {
      const probeRow = await hub.app.hub.db.getRepo("space", "admin", "probe");
      const uid = uidFor(probeRow?.id ?? "", manager.opts.uidBase);
      const cat = spawnSync("setpriv", [
        `--reuid=${uid}`,
        `--regid=${uid}`,
        "--clear-groups",
        "cat",
        join(hub.dataDir, "hub.sqlite"),
      ]);
      assert.notEqual(cat.status, 0);
      assert.match(cat.stderr.toString(), /Permission denied/);
    }
    // the hub's credentials never reach the app, and the app cannot set the hub's session cookie
    const cookie = await signIn();
    const seen = await fetch(`${hub.url}/spaces/admin/probe/app/headers`, {
      headers: { ...auth(), cookie: `${cookie}; other=1` },
    });
    const echoed = (await seen.json()) as { headers: Record<string, string>; env: string[] };
    assert.equal(echoed.headers.authorization, undefined);
    assert.equal(echoed.headers.cookie, "other=1");
    assert.equal(echoed.headers["x-forwarded-prefix"], "/spaces/admin/probe/app");
    assert.deepEqual(seen.headers.getSetCookie(), ["probe=1; Path=/"]);
    // a scrubbed environment: what the hub sets, nothing of its own
    assert.deepEqual(
      echoed.env.filter(
        (k) =>
          !["HOME", "HOST", "PATH", "PORT", "NODE_ENV", "HEARTH_BACKEND", "CPU_CORES", "MEMORY"].includes(k) &&
          !k.startsWith("SPACE_"),
      ),
      [],
    );
    // WebSocket through the proxy
    assert.equal(await wsEcho(`/spaces/admin/probe/app/ws`, "ping"), "echo: ping");
    // allocate without bound
    const hog = await fetch(`${hub.url}/spaces/admin/probe/app/hog`).catch(() => undefined);
    assert.notEqual(hog?.status, 200);
    const stopped = await until("the memory stop", async () => {
      const rt = await runtime("probe");
      return /memory limit \(256 MiB\) exceeded/.test(rt.errorMessage ?? "") && rt;
    });
    t.diagnostic(`probe: ${stopped.errorMessage}; sandbox ${JSON.stringify(manager.caps)}`);
    assert.equal((await fetch(`${hub.url}/api/whoami-v2`, { headers: auth() })).status, 200);
    assert.equal((await predict("classifier", "still here")).status, 200);
    assert.match(await (await fetch(`${hub.url}/spaces/admin/hello/app/`)).text(), /static Space/);
    // and the probe itself comes back
    await until("the probe restarted", async () => (await runtime("probe")).stage === "RUNNING");
    assert.match(await (await fetch(`${hub.url}/spaces/admin/probe/app/`)).text(), /hello from the probe/);
  });

  it("a dependency nobody can serve offline is a build error; the hub shows it, other Spaces run on", async () => {
    const src = await mkdtemp(join(tmpdir(), "hearth-broken-"));
    await writeFile(join(src, "README.md"), "---\nsdk: node\napp_file: app.mjs\n---\n");
    await writeFile(join(src, "app.mjs"), "import 'hearth-no-such-package';\n");
    await writeFile(join(src, "package.json"), JSON.stringify({ dependencies: { "hearth-no-such-package": "1.0.0" } }));
    await push("broken", src);
    await rm(src, { recursive: true, force: true });
    const rt = await until("BUILD_ERROR", async () => {
      const x = await runtime("broken");
      return x.stage === "BUILD_ERROR" && x;
    });
    assert.equal(rt.errorMessage, "build failed: npm install failed (exit code 1)");
    const log = await (
      await fetch(`${hub.url}/api/spaces/admin/broken/logs/build?follow=0`, { headers: auth() })
    ).text();
    assert.match(log, /npm install hearth-no-such-package@1\.0\.0/);
    assert.match(log, /ENOTCACHED|offline/i);
    const page = await (await fetch(`${hub.url}/spaces/admin/broken`)).text();
    assert.match(page, /id="space-stage" role="status">build error</);
    assert.match(page, /<div class="error" id="space-error">build failed: npm install failed/);
    assert.equal((await fetch(`${hub.url}/spaces/admin/broken/app/`)).status, 503);
    assert.equal((await predict("classifier", "still fine")).status, 200);
  });

  it("pause, restart, CPU cap, and deleting a Space stops its app", async () => {
    const manager = hub.app.hub.spaces as SpaceManager;
    const row = await hub.app.hub.db.getRepo("space", "admin", "probe");
    const brokenRow = await hub.app.hub.db.getRepo("space", "admin", "broken");
    if (manager.caps.cgroup === "v1")
      assert.equal(
        (await readFile(`/sys/fs/cgroup/cpu/hearth-space-${row?.id}/cpu.cfs_quota_us`, "utf8")).trim(),
        "50000",
      );
    const bearer = { Authorization: `Bearer ${token}` };
    const paused = await fetch(`${hub.url}/api/spaces/admin/probe/pause`, { method: "POST", headers: bearer });
    assert.equal(((await paused.json()) as RuntimeInfo).stage, "PAUSED");
    assert.equal((await fetch(`${hub.url}/spaces/admin/probe/app/`)).status, 503);
    assert.equal((await fetch(`${hub.url}/api/spaces/admin/probe/pause`, { method: "POST" })).status, 401);
    const restarted = await fetch(`${hub.url}/api/spaces/admin/probe/restart`, { method: "POST", headers: bearer });
    assert.equal(((await restarted.json()) as RuntimeInfo).stage, "RUNNING");
    assert.equal((await fetch(`${hub.url}/spaces/admin/probe/app/`)).status, 200);
    const del = await fetch(`${hub.url}/api/repos/delete`, {
      method: "DELETE",
      headers: auth(),
      body: JSON.stringify({ name: "broken", organization: "admin", type: "space" }),
    });
    assert.equal(del.status, 200);
    assert.equal((await fetch(`${hub.url}/api/spaces/admin/broken/runtime`, { headers: bearer })).status, 404);
    const brokenDir = join(manager.runDir, brokenRow?.id ?? "x");
    await until("the working copy removed", async () => !existsSync(brokenDir), 5000);
  });

  it("an idle app sleeps and the next request wakes it", async () => {
    const manager = hub.app.hub.spaces as SpaceManager;
    const idle = manager.opts.idleMs;
    manager.opts.idleMs = 200;
    try {
      await until("sleep", async () => (await runtime("probe")).stage === "SLEEPING", 10_000);
    } finally {
      manager.opts.idleMs = idle;
    }
    const r = await fetch(`${hub.url}/spaces/admin/probe/app/`);
    assert.equal(r.status, 200);
    assert.equal((await runtime("probe")).stage, "RUNNING");
  });

  function wsEcho(path: string, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const u = new URL(hub.url);
      const req = request({
        host: u.hostname,
        port: u.port,
        path,
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
          "Sec-WebSocket-Version": "13",
        },
      });
      req.on("upgrade", (res, socket) => {
        assert.equal(res.statusCode, 101);
        const mask = randomBytes(4);
        const payload = Buffer.from(text).map((b, i) => b ^ (mask[i % 4] as number));
        socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, payload]));
        socket.once("data", (buf: Buffer) => {
          socket.destroy();
          resolve(buf.subarray(2, 2 + (buf[1] as number)).toString());
        });
      });
      req.on("response", (res) => reject(new Error(`no upgrade: HTTP ${res.statusCode}`)));
      req.on("error", reject);
      req.end();
    });
  }
});
