/** Web UI: server-rendered pages, sign-in and tokens, and a headless Chromium screenshot. */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { seedDemo } from "../src/seed.ts";
import { createUser, startHub, type TestHub } from "./helpers.ts";

const fixtures = join(import.meta.dirname, "..", "..", "..", "fixtures");
const chromium = ["chromium", "chromium-browser"].find((c) => spawnSync(c, ["--version"]).status === 0);

function runChromium(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(chromium as string, args, { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

describe("web UI", () => {
  let hub: TestHub;
  let token: string;
  let profile: string;
  before(async () => {
    hub = await startHub();
    const admin = await createUser(hub.app, { name: "admin", isAdmin: true, password: "correct horse battery" });
    token = admin.token;
    await seedDemo(hub.app, admin.user, fixtures);
    profile = await mkdtemp(join(tmpdir(), "hearth-chromium-"));
  });
  after(async () => {
    await hub.close();
    await rm(profile, { recursive: true, force: true });
  });

  it("home search, model card, files, file view with highlighting, commits", async () => {
    const home = await (await fetch(`${hub.url}/?search=demo`)).text();
    assert.match(home, /admin\/demo-model/);
    assert.match(home, /admin\/demo-dataset/);
    const page = await (await fetch(`${hub.url}/admin/demo-model`)).text();
    assert.match(page, /<h1[^>]*>Demo model<\/h1>/);
    assert.match(page, /<b>pipeline_tag<\/b><span>text-classification<\/span>/);
    assert.match(page, /model\.safetensors<\/a> <span class="badge lfs">LFS<\/span>/);
    const blob = await (await fetch(`${hub.url}/admin/demo-model/blob/main/config.json`)).text();
    assert.match(blob, /<span class="hljs-attr">&quot;model_type&quot;<\/span>/);
    const commits = await (await fetch(`${hub.url}/admin/demo-model/commits/main`)).text();
    assert.match(commits, /Add demo model/);
    assert.match(commits, /initial commit/);
    const bin = await (await fetch(`${hub.url}/admin/demo-model/blob/main/model.safetensors`)).text();
    assert.match(bin, /Stored with Git LFS/);
  });

  it("dataset preview: CSV by default, Parquet on request", async () => {
    const csv = await (await fetch(`${hub.url}/datasets/admin/demo-dataset`)).text();
    assert.match(csv, /data\/train\.csv · first 6 rows/);
    assert.match(csv, /<td title="I loved every minute of it">I loved every minute of it<\/td>/);
    const pq = await (await fetch(`${hub.url}/datasets/admin/demo-dataset?preview=extra%2Falltypes.parquet`)).text();
    assert.match(pq, /extra\/alltypes\.parquet · first 8 rows/);
    assert.match(pq, /<th>bool_col<\/th>/);
  });

  it("private repos look missing; sign-in with password and token management", async () => {
    await fetch(`${hub.url}/api/repos/create`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "hidden", private: true }),
    });
    assert.equal((await fetch(`${hub.url}/admin/hidden`)).status, 404);
    assert.equal((await fetch(`${hub.url}/admin/nothing`)).status, 404);
    const bad = await fetch(`${hub.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "admin", password: "wrong" }),
      redirect: "manual",
    });
    assert.equal(bad.status, 401);
    const ok = await fetch(`${hub.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "admin", password: "correct horse battery" }),
      redirect: "manual",
    });
    assert.equal(ok.status, 303);
    const cookie = (ok.headers.get("set-cookie") ?? "").split(";")[0] as string;
    assert.equal((await fetch(`${hub.url}/admin/hidden`, { headers: { cookie } })).status, 200);
    const created = await (
      await fetch(`${hub.url}/settings/tokens`, {
        method: "POST",
        headers: { cookie },
        body: new URLSearchParams({ name: "ci", role: "read" }),
      })
    ).text();
    const newToken = /<code>(hf_[A-Za-z0-9]+)<\/code>/.exec(created)?.[1] as string;
    assert.ok(newToken);
    const me = (await (
      await fetch(`${hub.url}/api/whoami-v2`, { headers: { Authorization: `Bearer ${newToken}` } })
    ).json()) as { name: string; auth: { accessToken: { role: string; displayName: string } } };
    assert.equal(me.name, "admin");
    assert.deepEqual([me.auth.accessToken.role, me.auth.accessToken.displayName], ["read", "ci"]);
    const withToken = await fetch(`${hub.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "admin", password: token }),
      redirect: "manual",
    });
    assert.equal(withToken.status, 303);
  });

  it("headless Chromium renders the model card and the file list", {
    skip: chromium ? false : "chromium is not installed (apt-get install -y chromium)",
  }, async (t) => {
    const flags = [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--window-size=1280,1000",
    ];
    const dom = await runChromium([...flags, "--dump-dom", `${hub.url}/admin/demo-model`]);
    assert.match(dom, /<div class="card" id="model-card">/);
    assert.match(dom, /<h1>Demo model<\/h1>/);
    assert.match(dom, /<table class="files" id="files">[\s\S]*config\.json[\s\S]*model\.safetensors/);
    const png = join(process.env.HEARTH_SCREENSHOT_DIR ?? profile, "repo-page.png");
    await runChromium([...flags, `--screenshot=${png}`, `${hub.url}/admin/demo-model`]);
    const bytes = await readFile(png);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [1280, 1000]);
    assert.ok(bytes.length > 20_000, `a rendered page compresses to tens of kB, got ${bytes.length} bytes`);
    t.diagnostic(`screenshot: ${png}`);
  });
});
