/** Spaces building blocks without processes: config, version ranges, log scrubbing, settings. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseSpaceConfig } from "../src/spaces/config.ts";
import { lineWriter, SpaceLog } from "../src/spaces/logs.ts";
import { confine } from "../src/spaces/sandbox.ts";
import { satisfies } from "../src/spaces/semver.ts";
import { SpaceSettingsStore } from "../src/spaces/settings-store.ts";

describe("Spaces units", () => {
  it("README front matter: defaults, app_file, app_port, links, errors", () => {
    const files = new Set(["index.html", "app.ts", "README.md"]);
    const readme =
      "---\ntitle: T\nemoji: 🔥\nsdk: node\napp_port: 7861\nmodels: [a/b]\ndatasets: c/d\npinned: true\nlicense: mit\n---\nbody";
    assert.deepEqual(parseSpaceConfig(readme, files), {
      ok: true,
      config: {
        title: "T",
        emoji: "🔥",
        sdk: "node",
        appFile: "app.ts",
        appPort: 7861,
        models: ["a/b"],
        datasets: ["c/d"],
        pinned: true,
        license: "mit",
        shortDescription: undefined,
      },
    });
    const noCard = parseSpaceConfig(undefined, files);
    assert.ok(noCard.ok && noCard.config.sdk === "static" && noCard.config.appFile === "index.html");
    const fromCreate = parseSpaceConfig("no front matter", files, "node");
    assert.ok(fromCreate.ok && fromCreate.config.sdk === "node" && fromCreate.config.appFile === "app.ts");
    assert.deepEqual(parseSpaceConfig("---\nsdk: gradio\n---\n", files), {
      ok: false,
      error: "README.md: sdk must be 'static' or 'node' on this hub, got \"gradio\"",
    });
    assert.match(
      (parseSpaceConfig("---\nsdk: node\napp_file: main.js\n---\n", files) as { error: string }).error,
      /app_file 'main.js' is not in the repository/,
    );
    assert.match(
      (parseSpaceConfig("---\nsdk: node\napp_port: 80\n---\n", files) as { error: string }).error,
      /app_port must be an integer in \[1024, 65535\], got 80/,
    );
  });

  it("version ranges for offline dependencies", () => {
    const yes: Array<[string, string]> = [
      ["2.9.1", "^2.0.0"],
      ["2.9.1", "*"],
      ["2.9.1", "2"],
      ["2.9.1", "2.9.x"],
      ["0.3.4", "^0.3.1"],
      ["1.2.9", "~1.2.3"],
      ["3.0.0", ">=2.1.0"],
      ["1.0.0", "^2 || ^1"],
      ["1.0.0", ""],
    ];
    const no: Array<[string, string]> = [
      ["2.9.1", "^3.0.0"],
      ["0.4.0", "^0.3.1"],
      ["1.3.0", "~1.2.3"],
      ["2.0.0", ">=2.1.0"],
      ["2.9.1", "git+https://x"],
      ["2.9.1-beta", "^2"],
      ["1.9.9", "2.x"],
    ];
    for (const [v, r] of yes) assert.ok(satisfies(v, r), `${v} satisfies ${r}`);
    for (const [v, r] of no) assert.ok(!satisfies(v, r), `${v} does not satisfy ${r}`);
  });

  it("logs scrub secrets, also across chunk boundaries, and notify followers", () => {
    const log = new SpaceLog(3);
    log.setSecrets(["abc", "abcdef"]);
    const got: string[] = [];
    const stop = log.follow((l) => got.push(l.data));
    const w = lineWriter(log);
    w.push(Buffer.from("token=abc"));
    w.push(Buffer.from("def and abc\nsecond"));
    w.end();
    stop();
    log.write("not followed");
    assert.deepEqual(got, ["token=*** and ***\n", "second\n"]);
    log.write("4");
    assert.equal(log.all().length, 3, "bounded");
    assert.ok(!log.text().includes("abc"));
  });

  it("settings: keys checked, secret values never listed, file 0600 and atomic", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hearth-settings-"));
    try {
      const store = new SpaceSettingsStore(dir);
      await store.set("secrets", "sp1", "API_KEY", "v1", "d");
      await store.set("variables", "sp1", "MODE", "fast");
      await assert.rejects(store.set("secrets", "sp1", "PORT", "1"), /key 'PORT' is reserved/);
      await assert.rejects(store.set("secrets", "sp1", "1BAD", "1"), /key must match/);
      await assert.rejects(store.set("secrets", "sp1", "HEARTH_X", "1"), /reserved/);
      const secrets = await store.secrets("sp1");
      assert.deepEqual(
        secrets.map((s) => [s.key, s.description, "value" in s]),
        [["API_KEY", "d", false]],
      );
      assert.deepEqual(await store.env("sp1"), { env: { MODE: "fast", API_KEY: "v1" }, secretValues: ["v1"] });
      // a key moves between kinds
      await store.set("variables", "sp1", "API_KEY", "public");
      assert.deepEqual(await store.secrets("sp1"), []);
      assert.equal((await stat(join(dir, "settings.json"))).mode & 0o777, 0o600);
      const reread = new SpaceSettingsStore(dir);
      assert.deepEqual((await reread.env("sp1")).env, { MODE: "fast", API_KEY: "public" });
      assert.ok(!(await readFile(join(dir, "settings.json"), "utf8")).includes("v1"));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("the bundler reads nothing outside the app folder", async () => {
    const dir = await mkdtemp(join(tmpdir(), "hearth-bundle-"));
    try {
      const outside = join(import.meta.dirname, "..", "package.json");
      await writeFile(join(dir, "ok.mjs"), "export const x = 1;\n");
      await writeFile(
        join(dir, "app.mjs"),
        `import { x } from "./ok.mjs";\nimport pkg from ${JSON.stringify(outside)};\nconsole.log(x, pkg.name);\n`,
      );
      const run = (entry: string) =>
        spawnSync(process.execPath, [
          join(import.meta.dirname, "..", "src", "spaces", "bundle.mjs"),
          import.meta.resolve("esbuild"),
          dir,
          entry,
          join(dir, "out.mjs"),
        ]);
      const bad = run("./app.mjs");
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr.toString(), /refusing to read .*package\.json: outside the app folder/);
      const good = run("./ok.mjs");
      assert.equal(good.status, 0, good.stderr.toString());
      assert.match(await readFile(join(dir, "out.mjs"), "utf8"), /var x = 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("confine: cgroup entry, then uid drop, then limits, then the program", () => {
    const argv = confine(
      { uid: true, cgroup: "v1", prlimit: true, unshare: undefined, net: false, mount: false },
      {
        uid: 200123,
        cgroup: { dirs: ["/sys/fs/cgroup/memory/x"], memoryEvents: async () => false, remove: async () => {} },
        memoryMb: 64,
      },
      ["node", "app.mjs"],
    );
    assert.deepEqual(argv.slice(0, 2), ["/bin/sh", "-c"]);
    assert.match(argv[2] as string, /echo \$\$ > '\/sys\/fs\/cgroup\/memory\/x\/cgroup.procs'/);
    assert.deepEqual(argv.slice(4), [
      "setpriv",
      "--reuid=200123",
      "--regid=200123",
      "--clear-groups",
      "--no-new-privs",
      "--",
      "prlimit",
      "--nproc=256",
      "--nofile=1024",
      "--core=0",
      "--",
      "node",
      "app.mjs",
    ]);
    const plain = confine(
      { uid: false, cgroup: undefined, prlimit: true, unshare: undefined, net: false, mount: false },
      { memoryMb: 64, net: { socket: "/s", port: 7860 }, data: { dir: "/d", sizeMb: 8 } },
      ["node"],
    );
    assert.deepEqual(plain, [
      "prlimit",
      "--nproc=256",
      "--nofile=1024",
      "--core=0",
      `--as=${(64 + 1024) * 1024 * 1024}`,
      "--",
      "node",
    ]);
  });

  it("confine with namespaces: loopback up, data tmpfs, bridge, then the uid drop and limits", () => {
    const cgroup = { dirs: ["/cg"], memoryEvents: async () => false, remove: async () => {} };
    const opts = {
      uid: 200123,
      cgroup,
      memoryMb: 64,
      fileMb: 8,
      net: { socket: "/run/s'1.sock", port: 7860 },
      data: { dir: "/app/data", sizeMb: 8 },
    };
    const caps = { uid: true, cgroup: "v1" as const, prlimit: true, unshare: "root" as const, net: true, mount: true };
    const argv = confine(caps, opts, ["node", "app.mjs"]);
    const u = argv.indexOf("unshare");
    assert.deepEqual(argv.slice(u, u + 8), [
      "unshare",
      "--net",
      "--mount",
      "--propagation",
      "private",
      "--",
      "/bin/sh",
      "-c",
    ]);
    const script = argv[u + 8] as string;
    assert.match(
      script,
      /^ip link set lo up && mount -t tmpfs -o size=8m,mode=0700,nosuid,nodev,uid=200123,gid=200123 hearth-space-data '\/app\/data' && \{ '[^']*node' '[^']*bridge\.mjs' '\/run\/s'\\''1\.sock' '7860' <\/dev\/null >\/dev\/null 2>&1 & \} && unset PWD OLDPWD && exec "\$@"$/,
    );
    assert.deepEqual(argv.slice(u + 9, u + 12), ["sh", "setpriv", "--reuid=200123"]);
    assert.ok(argv.includes("--fsize=8388608"));
    // unprivileged: a user namespace; the uid stays (the only one mapped) but every capability goes
    const user = confine({ ...caps, uid: false, cgroup: undefined, unshare: "user" }, { ...opts, cgroup: undefined }, [
      "node",
    ]);
    assert.deepEqual(user.slice(0, 8), [
      "unshare",
      "--user",
      "--map-root-user",
      "--net",
      "--mount",
      "--propagation",
      "private",
      "--",
    ]);
    assert.match(
      user[10] as string,
      /^ip link set lo up && mount -t tmpfs -o size=8m,mode=0700,nosuid,nodev hearth-space-data/,
    );
    assert.deepEqual(user.slice(12, 17), ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--no-new-privs", "--"]);
  });
});
