/**
 * Hub server under load over loopback: 64 concurrent download clients and concurrent API commits,
 * with error and corruption counts. Peers measured in the same run: a bare node:http static file
 * server for downloads, and plain git plumbing (hash-object, mktree, commit-tree, update-ref) for
 * commits. Every loop is bounded in count and in time, and talks only to 127.0.0.1.
 *
 *   npm run bench -- hub-server [--clients 64] [--requests 1280] [--size 1048576] [--commits 200] [--seconds 20]
 */
import { execFile, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "64" },
    requests: { type: "string", default: "1280" },
    size: { type: "string", default: String(1024 * 1024) },
    commits: { type: "string", default: "200" },
    writers: { type: "string", default: "8" },
    seconds: { type: "string", default: "20" },
    serve: { type: "string" },
    peer: { type: "string" },
  },
});

function startChild(args: string[]): Promise<{ info: Record<string, string>; stop: () => void }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let buf = "";
    child.stdout.on("data", (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve({ info: JSON.parse(buf.slice(0, nl)), stop: () => child.kill("SIGTERM") });
    });
    child.on("exit", (code) => reject(new Error(`bench child exited with ${code}`)));
    process.on("exit", () => child.kill("SIGTERM"));
  });
}

interface LoadResult {
  ok: number;
  errors: number;
  corrupt: number;
  seconds: number;
  latencies: number[];
}

/** `clients` workers share a budget of `requests` GETs (stopping early after `seconds`). */
async function downloadLoad(
  url: string,
  headers: Record<string, string>,
  expectSha: string,
  clients: number,
  requests: number,
  seconds: number,
): Promise<LoadResult> {
  let issued = 0;
  const r: LoadResult = { ok: 0, errors: 0, corrupt: 0, seconds: 0, latencies: [] };
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < requests && performance.now() < deadline) {
        issued++;
        const s = performance.now();
        try {
          const res = await fetch(url, { headers });
          const body = Buffer.from(await res.arrayBuffer());
          if (res.status !== 200) r.errors++;
          else if (createHash("sha256").update(body).digest("hex") !== expectSha) r.corrupt++;
          else r.ok++;
        } catch {
          r.errors++;
        }
        r.latencies.push(performance.now() - s);
      }
    }),
  );
  r.seconds = (performance.now() - t0) / 1000;
  return r;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
};

function git(cwd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      "git",
      args,
      {
        cwd,
        env: {
          ...process.env,
          GIT_CONFIG_GLOBAL: "/dev/null",
          GIT_AUTHOR_NAME: "b",
          GIT_AUTHOR_EMAIL: "b@x",
          GIT_COMMITTER_NAME: "b",
          GIT_COMMITTER_EMAIL: "b@x",
        },
      },
      (e, out) => (e ? reject(e) : resolve(out.trim())),
    );
    child.stdin?.on("error", () => {});
    child.stdin?.end(input ?? "");
  });
}

async function main() {
  const clients = Number(values.clients);
  const requests = Number(values.requests);
  const size = Number(values.size);
  const commits = Number(values.commits);
  const writers = Number(values.writers);
  const seconds = Number(values.seconds);
  const dir = await mkdtemp(join(tmpdir(), "hearth-bench-"));
  const data = randomBytes(size);
  const sha = createHash("sha256").update(data).digest("hex");
  const file = join(dir, "payload.bin");
  await writeFile(file, data);
  const hub = await startChild(["--serve", join(dir, "hub")]);
  const peer = await startChild(["--peer", file]);
  try {
    const { url, token } = hub.info as { url: string; token: string };
    const auth = { Authorization: `Bearer ${token}` };
    const post = (path: string, body: string, type: string) =>
      fetch(`${url}${path}`, { method: "POST", headers: { ...auth, "Content-Type": type }, body });
    await post("/api/repos/create", JSON.stringify({ name: "load" }), "application/json");
    const batch = (await (
      await post(
        "/bench/load.git/info/lfs/objects/batch",
        JSON.stringify({ operation: "upload", transfers: ["basic"], objects: [{ oid: sha, size }] }),
        "application/vnd.git-lfs+json",
      )
    ).json()) as {
      objects: Array<{ actions: { upload: { href: string } } }>;
    };
    await fetch(batch.objects[0]?.actions.upload.href as string, { method: "PUT", body: data });
    const line = (k: string, v: unknown) => JSON.stringify({ key: k, value: v });
    await post(
      "/api/models/bench/load/commit/main",
      [
        line("header", { summary: "payload" }),
        line("lfsFile", { path: "payload.bin", algo: "sha256", oid: sha, size }),
      ].join("\n"),
      "application/x-ndjson",
    );

    console.log(`hub-server bench (loopback, 2 shared CPU cores: numbers are noisy)`);
    console.log(`downloads: ${clients} clients, ${requests} GETs of ${size} bytes, limit ${seconds}s`);
    const ours = await downloadLoad(`${url}/bench/load/resolve/main/payload.bin`, {}, sha, clients, requests, seconds);
    const theirs = await downloadLoad(peer.info.url as string, {}, sha, clients, requests, seconds);
    const row = (name: string, r: LoadResult) => {
      const n = r.ok + r.errors + r.corrupt;
      return `  ${name.padEnd(24)} ${(r.ok / r.seconds).toFixed(0).padStart(6)} req/s ${((r.ok * size) / r.seconds / 1e6).toFixed(0).padStart(6)} MB/s  p50 ${pct(r.latencies, 50).toFixed(1)} ms  p99 ${pct(r.latencies, 99).toFixed(1)} ms  errors ${r.errors}/${n} (${((100 * r.errors) / Math.max(n, 1)).toFixed(2)}%)  corrupt ${r.corrupt}`;
    };
    console.log(row("hearth resolve (LFS)", ours));
    console.log(row("peer node:http static", theirs));
    console.log(`  ratio hearth/peer: ${(ours.ok / ours.seconds / (theirs.ok / theirs.seconds)).toFixed(2)}`);

    // commits: `writers` concurrent clients share `commits` API commits to one branch
    let issued = 0;
    let okCommits = 0;
    let failed = 0;
    const t0 = performance.now();
    const deadline = t0 + seconds * 1000;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (issued < commits && performance.now() < deadline) {
          const i = issued++;
          const body = [
            line("header", { summary: `commit ${i}` }),
            line("file", {
              path: `files/f${i}.txt`,
              content: Buffer.from(`file ${i}\n`).toString("base64"),
              encoding: "base64",
            }),
          ].join("\n");
          const res = await post("/api/models/bench/load/commit/main", body, "application/x-ndjson").catch(
            () => undefined,
          );
          if (res?.status === 200) okCommits++;
          else failed++;
          await res?.arrayBuffer();
        }
      }),
    );
    const commitSeconds = (performance.now() - t0) / 1000;
    const tree = (await (await fetch(`${url}/api/models/bench/load/tree/main/files`)).json()) as unknown[];
    const lost = okCommits - tree.length;

    // peer: the same commits with git plumbing in a local bare repo, one after another
    const bare = join(dir, "peer.git");
    await git(dir, ["init", "-q", "--bare", bare]);
    let parent = "";
    const tp = performance.now();
    let peerCommits = 0;
    const entries: string[] = [];
    while (peerCommits < Math.min(commits, okCommits || commits) && performance.now() < tp + seconds * 1000) {
      const blob = await git(bare, ["hash-object", "-w", "--stdin"], `file ${peerCommits}\n`);
      entries.push(`100644 blob ${blob}\tf${peerCommits}.txt`);
      const sub = await git(bare, ["mktree"], `${entries.join("\n")}\n`);
      const root = await git(bare, ["mktree"], `040000 tree ${sub}\tfiles\n`);
      const c = await git(bare, [
        "commit-tree",
        root,
        ...(parent ? ["-p", parent] : []),
        "-m",
        `commit ${peerCommits}`,
      ]);
      await git(bare, ["update-ref", "refs/heads/main", c]);
      parent = c;
      peerCommits++;
    }
    const peerSeconds = (performance.now() - tp) / 1000;
    console.log(`commits: ${writers} concurrent writers, ${commits} commits of one small file each, limit ${seconds}s`);
    console.log(
      `  ${"hearth NDJSON commit".padEnd(24)} ${(okCommits / commitSeconds).toFixed(1).padStart(6)} commits/s  failed ${failed}/${okCommits + failed}  files lost ${lost}`,
    );
    console.log(
      `  ${"peer git plumbing".padEnd(24)} ${(peerCommits / peerSeconds).toFixed(1).padStart(6)} commits/s  (sequential, 5 git processes per commit)`,
    );
    console.log(`  ratio hearth/peer: ${(okCommits / commitSeconds / (peerCommits / peerSeconds)).toFixed(2)}`);
    if (ours.errors || ours.corrupt || failed || lost) process.exitCode = 1;
  } finally {
    hub.stop();
    peer.stop();
    await new Promise((r) => setTimeout(r, 200));
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- child modes: the servers run in their own processes so client load does not share their event loop
if (values.serve) {
  const { buildApp } = await import("../packages/hub-server/src/app.ts");
  const { createUser } = await import("../packages/hub-server/src/bootstrap.ts");
  const app = await buildApp({ dataDir: values.serve });
  const { token } = await createUser(app, { name: "bench" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const addr = app.server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${addr.port}`, token }));
  process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
} else if (values.peer) {
  const file = values.peer;
  const { size } = await stat(file);
  const server = createServer((_req, res) => {
    res.writeHead(200, { "Content-Length": size, "Content-Type": "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  server.listen(0, "127.0.0.1", () =>
    console.log(JSON.stringify({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}/file` })),
  );
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
} else {
  await main();
}
