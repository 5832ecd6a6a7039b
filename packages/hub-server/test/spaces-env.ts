/**
 * What the Spaces end-to-end tests share: a hub with Spaces on, an admin token, `git push` of a
 * folder (git-lfs installed, so weights travel as LFS objects), and waiting for a stage.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cp, mkdir, mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { RuntimeInfo, SpacesOptions } from "../src/spaces/manager.ts";
import { createUser, type GitClient, gitClient, startHub, type TestHub } from "./helpers.ts";

export const hasLfs = spawnSync("git", ["lfs", "version"]).status === 0;
export const lfsSkip = hasLfs ? false : "git-lfs is not installed (apt-get install git-lfs)";
/** The Space apps the tests push. */
export const spacesDir = join(import.meta.dirname, "spaces");
export const repoRoot = join(import.meta.dirname, "..", "..", "..");
export const tinyBert = join(repoRoot, "fixtures", "hf-tiny", "models", "bert-seqcls");

export async function until<T>(what: string, f: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
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

/** A hub with Spaces, an admin, a scratch folder for clones. */
export class SpacesEnv {
  hub!: TestHub;
  token = "";
  work = "";
  private client: GitClient | null = null;

  async start(spaces: SpacesOptions): Promise<void> {
    // --offline: tests never reach a registry; dependencies come from the workspace
    this.hub = await startHub({ spaces: { npmArgs: ["--offline"], ...spaces } });
    this.token = (
      await createUser(this.hub.app, { name: "admin", isAdmin: true, password: "correct horse battery" })
    ).token;
    this.work = await mkdtemp(join(tmpdir(), "hearth-spaces-"));
    this.client = await gitClient(this.work, "Admin", 60_000);
  }

  async close(): Promise<void> {
    await this.hub?.close();
    if (this.work) await rm(this.work, { recursive: true, force: true });
  }

  get url(): string {
    return this.hub.url;
  }

  auth(): Record<string, string> {
    return { Authorization: `Bearer ${this.token}`, "Content-Type": "application/json" };
  }

  git(cwd: string, ...args: string[]): Promise<string> {
    if (!this.client) throw new Error("SpacesEnv.git: call start() first");
    return this.client.run(cwd, ...args);
  }

  async createSpace(name: string): Promise<void> {
    const r = await fetch(`${this.url}/api/repos/create`, {
      method: "POST",
      headers: this.auth(),
      body: JSON.stringify({ name, type: "space", sdk: "static" }),
    });
    assert.equal(r.status, 200, await r.text());
  }

  /** Sets a secret or variable of a Space through the API. */
  async setting(space: string, kind: "secrets" | "variables", key: string, value: string): Promise<void> {
    const r = await fetch(`${this.url}/api/spaces/admin/${space}/${kind}`, {
      method: "POST",
      headers: this.auth(),
      body: JSON.stringify({ key, value, description: `${key} for the test` }),
    });
    assert.equal(r.status, 200, await r.text());
  }

  /** The clone of a Space pushed by {@link push}. */
  clone(name: string): string {
    return join(this.work, name);
  }

  /**
   * Clones the Space, copies `src` over it plus `extra` files (`[from, to inside the repo]`),
   * commits and pushes; returns the commit.
   */
  async push(name: string, src: string, extra: Array<[string, string]> = [], message = "deploy"): Promise<string> {
    const dir = this.clone(name);
    await rm(dir, { recursive: true, force: true });
    const url = new URL(`${this.url}/spaces/admin/${name}`);
    url.username = "admin";
    url.password = this.token;
    await this.git(this.work, "clone", url.href, dir);
    await cp(src, dir, { recursive: true });
    for (const [from, to] of extra) {
      await mkdir(dirname(join(dir, to)), { recursive: true });
      await cp(from, join(dir, to));
    }
    await this.git(dir, "add", "-A");
    await this.git(dir, "commit", "-m", message);
    await this.git(dir, "push", "origin", "main");
    return (await this.git(dir, "rev-parse", "HEAD")).trim();
  }

  /** Commits what changed in the clone and pushes; returns the commit. */
  async pushChanges(name: string, message: string): Promise<string> {
    const dir = this.clone(name);
    await this.git(dir, "commit", "-am", message);
    await this.git(dir, "push", "origin", "main");
    return (await this.git(dir, "rev-parse", "HEAD")).trim();
  }

  async runtime(name: string): Promise<RuntimeInfo> {
    return (await (await fetch(`${this.url}/api/spaces/admin/${name}/runtime`)).json()) as RuntimeInfo;
  }

  /** Waits for RUNNING at `sha`; on timeout the error carries the stage and the tails of both logs. */
  async running(name: string, sha: string): Promise<RuntimeInfo> {
    try {
      return await until(`${name} RUNNING at ${sha.slice(0, 7)}`, async () => {
        const rt = await this.runtime(name);
        return rt.stage === "RUNNING" && rt.sha === sha && rt;
      });
    } catch (e) {
      const rt = await this.runtime(name);
      const tail = async (w: "build" | "run") => (await this.log(name, w)).slice(-1500);
      throw new Error(
        `${(e as Error).message}; stage ${rt.stage} (${rt.errorMessage ?? ""})\nbuild log: ${await tail("build")}\nrun log: ${await tail("run")}`,
      );
    }
  }

  predict(name: string, ...data: unknown[]): Promise<Response> {
    return fetch(`${this.url}/spaces/admin/${name}/app/api/predict`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ data }),
    });
  }

  /** GET of a path of a Space's app, as JSON. */
  async appJson<T>(name: string, path: string): Promise<T> {
    const r = await fetch(`${this.url}/spaces/admin/${name}/app${path}`);
    assert.equal(r.status, 200, `${path}: HTTP ${r.status}`);
    return (await r.json()) as T;
  }

  async log(name: string, which: "build" | "run"): Promise<string> {
    return (
      await fetch(`${this.url}/api/spaces/admin/${name}/logs/${which}?follow=0`, { headers: this.auth() })
    ).text();
  }

  async signIn(): Promise<string> {
    const ok = await fetch(`${this.url}/login`, {
      method: "POST",
      body: new URLSearchParams({ username: "admin", password: "correct horse battery" }),
      redirect: "manual",
    });
    return (ok.headers.get("set-cookie") ?? "").split(";")[0] as string;
  }

  /** A GET with another Host header (the per-Space origin), as text. */
  getWithHost(path: string, host: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const u = new URL(this.url);
      request({ host: u.hostname, port: u.port, path, headers: { host: `${host}:${u.port}` } }, (res) => {
        let t = "";
        res.on("data", (c) => {
          t += c;
        });
        res.on("end", () => resolve(t));
      })
        .on("error", reject)
        .end();
    });
  }

  /** One text frame through a WebSocket at `path`; resolves with the first text frame back. */
  wsEcho(path: string, text: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const u = new URL(this.url);
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
}
