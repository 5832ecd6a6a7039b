import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, hubWithUser, TOKEN, tmp } from "./helpers.ts";
import type { TestHub } from "./server/index.ts";

const ROOT = join(import.meta.dirname, "..", "..", "..");

/** Runs a TypeScript snippet in a fresh Node process; resolves with its stdout. */
function child(code: string, env: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
}

describe("two processes downloading the same file share one cache safely", () => {
  let hub: TestHub;
  const data = bytes(3_000_000, 21);
  before(async () => {
    hub = await hubWithUser();
    await hub.seed({ repo: "org/shared", files: { "big.safetensors": data } });
  });
  after(() => hub.close());

  test("the blob is fetched once, both get the right bytes, no .incomplete or lock is left", async () => {
    const t = tmp();
    try {
      // Hold the storage GET until both processes have done their HEAD, and trickle it, so the
      // second process reaches the lock while the first is still writing the blob.
      hub.faults.holdStorageUntilHeads = hub.log.filter((r) => r.method === "HEAD").length + 2;
      hub.faults.chunkDelayMs = 40;
      const code = `
        import { hfHubDownload } from "./packages/hub/src/index.ts";
        const p = await hfHubDownload({ repo: "org/shared", path: "big.safetensors", endpoint: process.env.EP, accessToken: process.env.TK, cacheDir: process.env.CD, progressBar: false });
        process.stdout.write(p);`;
      const env = { EP: hub.url, TK: TOKEN, CD: t.dir };
      const [a, b] = await Promise.all([child(code, env), child(code, env)]);
      hub.faults.holdStorageUntilHeads = undefined;
      hub.faults.chunkDelayMs = undefined;
      assert.equal(a, b);
      assert.ok(readFileSync(a).equals(data));
      const sha = createHash("sha256").update(data).digest("hex");
      assert.equal(hub.log.filter((r) => r.method === "GET" && r.path === `/lfs-storage/${sha}`).length, 1);
      assert.deepEqual(readdirSync(join(t.dir, "models--org--shared", "blobs")), [sha]);
      assert.equal(existsSync(join(t.dir, ".locks", "models--org--shared", `${sha}.lock`)), false);
    } finally {
      t.cleanup();
    }
  });

  test("acquireLock: critical sections of two processes never overlap", async () => {
    const t = tmp();
    try {
      const code = `
        import { acquireLock } from "./packages/hub/src/utils/file-lock.ts";
        import { appendFileSync } from "node:fs";
        for (let i = 0; i < 5; i++) {
          const release = await acquireLock(process.env.LOCK, { pollMs: 5 });
          appendFileSync(process.env.OUT, "enter " + process.pid + "\\n");
          await new Promise((r) => setTimeout(r, 20));
          appendFileSync(process.env.OUT, "exit " + process.pid + "\\n");
          release();
        }`;
      const env = { LOCK: join(t.dir, "x.lock"), OUT: join(t.dir, "trace") };
      await Promise.all([child(code, env), child(code, env)]);
      const lines = readFileSync(env.OUT, "utf8").trim().split("\n");
      assert.equal(lines.length, 20);
      for (let i = 0; i < lines.length; i += 2) {
        const [e, pid] = lines[i].split(" ");
        assert.equal(e, "enter");
        assert.equal(lines[i + 1], `exit ${pid}`, "another process entered while the lock was held");
      }
    } finally {
      t.cleanup();
    }
  });
});
