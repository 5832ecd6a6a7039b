import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { bytes, hubWithUser, TOKEN, tmp, withEnv } from "../../hub/test/helpers.ts";
import type { TestHub } from "../../hub/test/server/index.ts";
import { main } from "../src/index.ts";

const BIN = join(import.meta.dirname, "..", "bin", "hearth.mjs");

/** Runs `hearth` in-process with captured output. */
async function hearth(argv: string[], stdinText?: string) {
  const out: string[] = [];
  const err: string[] = [];
  const { Readable } = await import("node:stream");
  const stdin = Readable.from(stdinText === undefined ? [] : [stdinText]) as unknown as NodeJS.ReadStream;
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l), stdin, isTTY: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("hearth CLI", () => {
  let hub: TestHub;
  let home: ReturnType<typeof tmp>;
  let env: Record<string, string | undefined>;
  before(async () => {
    hub = await hubWithUser({ lfsThreshold: 50_000 });
    await hub.seed({
      repo: "org/m",
      files: { "config.json": "{}", "model.safetensors": bytes(80_000), "a/b.txt": "b" },
    });
    home = tmp();
    env = {
      HF_HOME: home.dir,
      HF_ENDPOINT: hub.url,
      HF_TOKEN: undefined,
      HF_HUB_CACHE: undefined,
      HF_HUB_OFFLINE: undefined,
      HF_HUB_DISABLE_PROGRESS_BARS: "1",
    };
  });
  after(async () => {
    await hub.close();
    home.cleanup();
  });

  test("the bin runs: --help exits 0, an unknown command exits 2, every command has --help", () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { ...process.env, HF_HOME: home.dir } });
    const help = run(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Usage: hearth <command>/);
    const bad = run(["frobnicate"]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command 'frobnicate'/);
    const sub = run(["cache", "scan", "--help"]);
    assert.equal(sub.status, 0);
    assert.match(sub.stdout, /hearth cache scan/);
  });

  test("every command and subcommand answers --help with exit 0", async () => {
    for (const argv of [
      ["login"],
      ["logout"],
      ["whoami"],
      ["download"],
      ["upload"],
      ["repo"],
      ["repo", "create"],
      ["repo", "delete"],
      ["repo", "info"],
      ["env"],
      ["cache"],
      ["cache", "scan"],
      ["cache", "prune"],
    ]) {
      const r = await hearth([...argv, "--help"]);
      assert.equal(r.code, 0, argv.join(" "));
      assert.match(r.out, /Usage: hearth/, argv.join(" "));
    }
    assert.equal((await hearth(["download", "--bogus"])).code, 2);
    assert.equal((await hearth(["download"])).code, 2);
    assert.equal((await hearth(["repo", "explode", "x/y"])).code, 2);
  });

  test("login (token on stdin), whoami, logout; exit 4 when not logged in", async () => {
    await withEnv(env, async () => {
      assert.equal((await hearth(["whoami"])).code, 4);
      const bad = await hearth(["login", "--token", "hf_nope"]);
      assert.equal(bad.code, 4);
      const ok = await hearth(["login"], `${TOKEN}\n`);
      assert.equal(ok.code, 0, ok.err);
      assert.match(ok.out, /Logged in as alice/);
      assert.equal(readFileSync(join(home.dir, "token"), "utf8"), TOKEN);
      const me = await hearth(["whoami"]);
      assert.deepEqual([me.code, me.out], [0, "alice\norgs: team"]);
      assert.equal((await hearth(["logout"])).code, 0);
      assert.equal(existsSync(join(home.dir, "token")), false);
    });
  });

  test("download: one file prints its path, a repo prints the snapshot; not found exits 3; offline exits 5", async () => {
    await withEnv(env, async () => {
      const one = await hearth(["download", "org/m", "config.json"]);
      assert.equal(one.code, 0, one.err);
      assert.equal(readFileSync(one.out, "utf8"), "{}");
      const all = await hearth(["download", "org/m", "--include", "*.safetensors", "--include", "a/"]);
      assert.equal(all.code, 0, all.err);
      assert.ok(existsSync(join(all.out, "model.safetensors")) && existsSync(join(all.out, "a", "b.txt")));
      assert.equal((await hearth(["download", "org/m", "nope.txt"])).code, 3);
      assert.equal((await hearth(["download", "org/missing", "x"])).code, 3);
      await withEnv({ HF_HUB_OFFLINE: "1" }, async () => {
        assert.equal((await hearth(["download", "org/m", "config.json"])).code, 0);
        const off = await hearth(["download", "org/m", "other.json"]);
        assert.equal(off.code, 5);
        assert.match(off.err, /HEARTH_HUB_OFFLINE_NOT_CACHED/);
      });
      const scan = await hearth(["cache", "scan"]);
      assert.equal(scan.code, 0);
      assert.match(scan.out, /org\/m\s+model\s+/);
      assert.equal((await hearth(["cache", "prune"])).code, 0, "nothing to prune needs no --yes");
    });
  });

  test("upload a folder and a file, repo create/info/delete with their exit codes", async () => {
    await withEnv({ ...env, HF_TOKEN: TOKEN }, async () => {
      const t = tmp();
      try {
        mkdirSync(join(t.dir, "out", "sub"), { recursive: true });
        writeFileSync(join(t.dir, "out", "config.json"), "{}");
        writeFileSync(join(t.dir, "out", "sub", "w.bin"), bytes(60_000));
        writeFileSync(join(t.dir, "out", "skip.tmp"), "x");
        const up = await hearth(["upload", "alice/new", join(t.dir, "out"), "--exclude", "*.tmp"]);
        assert.equal(up.code, 0, up.err);
        assert.match(up.out, new RegExp(`^${hub.url}/alice/new/commit/[0-9a-f]{40}$`));
        const one = await hearth(["upload", "alice/new", join(t.dir, "out", "config.json"), "conf/c.json"]);
        assert.equal(one.code, 0, one.err);
        const info = await hearth(["repo", "info", "alice/new"]);
        assert.equal(info.code, 0);
        assert.match(info.out, /files: .*conf\/c\.json/);
        assert.doesNotMatch(info.out, /skip\.tmp/);
        assert.equal((await hearth(["repo", "create", "alice/new"])).code, 7);
        assert.equal((await hearth(["repo", "create", "alice/new", "--exist-ok"])).code, 0);
        assert.equal((await hearth(["repo", "delete", "alice/new"])).code, 0);
        assert.equal((await hearth(["repo", "delete", "alice/new"])).code, 3);
        assert.equal((await hearth(["repo", "delete", "alice/new", "--missing-ok"])).code, 0);
        assert.equal((await hearth(["upload", "alice/new", join(t.dir, "absent")])).code, 2);
      } finally {
        t.cleanup();
      }
      const e = await hearth(["env"]);
      assert.equal(e.code, 0);
      assert.match(e.out, new RegExp(`endpoint \\(HF_ENDPOINT\\): ${hub.url.replace(/[.]/g, "\\.")}`));
      assert.doesNotMatch(e.out, new RegExp(TOKEN));
    });
  });
});
