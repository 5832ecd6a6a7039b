/**
 * Hub client throughput over loopback: download and upload of one large file (default 1 GiB)
 * with @hearth/hub beside curl, against the test hub (packages/hub/test/server) running in its
 * own process, in the same run. The file is generated in a temp folder and deleted after.
 *
 *   npm run bench -- hub [--size-mb 1024] [--reps 5]
 *
 * Peers: curl alone, and "curl + openssl sha256" (`openssl dgst -sha256`, SHA-NI where the CPU
 * has it): what a curl user must add to get the same guarantee (the download checked against
 * its sha256; the LFS oid known before the upload). Each figure is the median of N runs (the
 * machine is shared, so single runs swing by 2x); CPU time (user + system, all threads) is
 * printed too because it is steadier there.
 *
 * - download, ours: HEAD resolve + GET (302 -> storage) on a bare socket into a 1 MiB buffer,
 *   each read written to blobs/<sha>.incomplete and hashed right after (one pass), renamed,
 *   snapshot symlink, under the blob lock; a second row hashes on a worker thread that follows
 *   the file instead (HEARTH_HUB_HASH_THREAD=worker). curl: GET -L to a file.
 * - upload, ours: sha256 of the file (the LFS protocol needs the oid before the batch call),
 *   preupload, LFS batch, one basic PUT (bare socket, 1 MiB reads), NDJSON commit. curl: PUT
 *   of the bytes to an upload URL from a batch call. The server sha256-checks both PUTs.
 *
 * The server is the test hub (packages/hub/test/server, node:http) in its own process, the same
 * for both clients; on 2 cores it competes with the client for CPU.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRepo, hfHubDownload, uploadFile } from "../packages/hub/src/index.ts";
import { sha256File } from "../packages/hub/src/utils/hash.ts";

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = arg("size-mb", 1024) * 1024 * 1024;
const REPS = arg("reps", 5);
/** `--only download`: upload once (the file must exist on the hub), then time downloads only. */
const ONLY = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;
const TOKEN = "hf_bench";

interface Run {
  wall: number;
  cpu: number;
  /** CPU seconds the hub server process spent during the same step. */
  serverCpu: number;
}

/** CPU seconds (user + system) the hub server process has used so far, from /proc. */
function serverCpuNow(): number {
  try {
    const fields = readFileSync(`/proc/${server.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

/**
 * Flushes dirty pages before each timed step, so no step pays the kernel's write-back of the
 * gigabyte the previous one wrote (that cost lands on whoever writes next, as system time).
 */
const settle = () => spawnSync("sync");

/** Runs a command under /usr/bin/time: wall and CPU seconds, and its stdout. */
function child(cmd: string, argv: string[]): Run & { stdout: string } {
  settle();
  const s0 = serverCpuNow();
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "CPU %U %S", cmd, ...argv], { encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed: ${r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return {
    wall,
    cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    serverCpu: serverCpuNow() - s0,
    stdout: r.stdout,
  };
}

/** Wall and CPU seconds of an in-process call (CPU of every thread of this process). */
async function ours(fn: () => Promise<unknown>): Promise<Run> {
  settle();
  const s0 = serverCpuNow();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6, serverCpu: serverCpuNow() - s0 };
}

const work = mkdtempSync(join(tmpdir(), "hearth-bench-hub-"));
const lfsDir = join(work, "server");
mkdirSync(lfsDir);
const server = spawn(
  process.execPath,
  ["--import", "tsx", join(import.meta.dirname, "..", "packages/hub/test/server/main.ts")],
  {
    env: {
      ...process.env,
      HUB_LFS_DIR: lfsDir,
      HUB_TOKEN: TOKEN,
      HUB_MULTIPART_THRESHOLD: String(Number.MAX_SAFE_INTEGER),
    },
    stdio: ["ignore", "pipe", "inherit"],
  },
);
const cleanup = () => {
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);

try {
  const endpoint = await new Promise<string>((resolve, reject) => {
    server.stdout.once("data", (d) => resolve(JSON.parse(String(d)).url));
    server.once("exit", (c) => reject(new Error(`test hub exited ${c}`)));
  });
  const curlVersion = spawnSync("curl", ["--version"], { encoding: "utf8" }).stdout.split(" ").slice(0, 2).join(" ");
  console.log(
    `hub bench: ${(SIZE / 2 ** 20).toFixed(0)} MiB over loopback, node ${process.versions.node}, ${curlVersion}`,
  );
  console.log("note: 2 shared CPU cores; wall-clock numbers are noisy, CPU seconds less so");

  const file = join(work, "big.bin");
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(16 * 2 ** 20);
  for (let left = SIZE; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  }
  closeSync(fd);
  const sha = await sha256File(file);
  const opensslSha = (path: string) => {
    const r = child("openssl", ["dgst", "-sha256", path]);
    if (r.stdout.trim().split("= ")[1] !== sha) throw new Error(`openssl dgst of ${path} disagrees`);
    return r;
  };
  const call = { endpoint, accessToken: TOKEN, progressBar: false as const };
  await createRepo({ ...call, repo: "bench/big" });

  const results = {
    upload: { ours: [] as Run[], curl: [] as Run[], hash: [] as Run[] },
    download: { ours: [] as Run[], curl: [] as Run[], hash: [] as Run[], worker: [] as Run[] },
  };

  for (let r = 0; r < REPS; r++) {
    // ---- upload (once with --only download: the download needs the file on the hub) ----
    if (ONLY !== "download" || r === 0) {
      rmSync(join(lfsDir, sha), { force: true }); // make the hub want the object again
      const res = await fetch(`${endpoint}/bench/big.git/info/lfs/objects/batch`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/vnd.git-lfs+json" },
        body: JSON.stringify({
          operation: "upload",
          transfers: ["basic"],
          objects: [{ oid: sha, size: SIZE }],
          hash_algo: "sha256",
        }),
      });
      const batch = (await res.json()) as { objects: { actions: { upload: { href: string } } }[] };
      const curlUpload = () => {
        const put = child("curl", [
          "-sS",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "-T",
          file,
          batch.objects[0].actions.upload.href,
        ]);
        if (put.stdout !== "200") throw new Error(`curl upload answered ${put.stdout}`);
        results.upload.curl.push(put);
        results.upload.hash.push(opensslSha(file));
      };
      const oursUpload = async () => {
        results.upload.ours.push(
          await ours(() => uploadFile({ ...call, repo: "bench/big", file, pathInRepo: `big-${r}.bin` })),
        );
      };
      // Alternate who goes first, so neither always inherits the other's page-cache state. The
      // object is removed between the two so that each really uploads it.
      if (r % 2 === 0) {
        curlUpload();
        rmSync(join(lfsDir, sha), { force: true });
        await oursUpload();
      } else {
        await oursUpload();
        rmSync(join(lfsDir, sha), { force: true });
        curlUpload();
      }
      if (statSync(join(lfsDir, sha)).size !== SIZE) throw new Error("upload did not store the object");
    }

    // ---- download ----
    const out = join(work, "curl.out");
    const cacheDir = join(work, `cache-${r}`);
    const curlDownload = () => {
      results.download.curl.push(child("curl", ["-sSfL", "-o", out, `${endpoint}/bench/big/resolve/main/big-0.bin`]));
      results.download.hash.push(opensslSha(out));
      rmSync(out);
    };
    // Ours twice: sha256 inline (the default) and on a worker thread (HEARTH_HUB_HASH_THREAD=worker).
    const oursDownload = async (mode: "inline" | "worker") => {
      process.env.HEARTH_HUB_HASH_THREAD = mode;
      const run = await ours(() => hfHubDownload({ ...call, repo: "bench/big", path: "big-0.bin", cacheDir }));
      delete process.env.HEARTH_HUB_HASH_THREAD;
      (mode === "inline" ? results.download.ours : results.download.worker).push(run);
      if (statSync(join(cacheDir, "models--bench--big", "blobs", sha)).size !== SIZE)
        throw new Error("download is short");
      rmSync(cacheDir, { recursive: true });
    };
    // Rotate the order so no one always inherits the others' page-cache and CPU state.
    const steps = [curlDownload, () => oursDownload("inline"), () => oursDownload("worker")];
    for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]();
  }

  const gib = SIZE / 2 ** 30;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const mbps = (secs: number) => SIZE / 2 ** 20 / secs;
  console.log(`\nwall clock, median of ${REPS} (MiB/s):\n`);
  console.log(
    "| transfer | @hearth/hub | curl | ours/curl | ours/curl, paired | curl + openssl sha256 | ours/(curl + sha256) |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  const rows = [
    ["download", results.download.ours],
    ["download, sha256 on a worker", results.download.worker],
    ["upload", results.upload.ours],
  ] as const;
  for (const [label, oursRuns] of rows) {
    const t = results[label === "upload" ? "upload" : "download"];
    if (oursRuns.length === 0) continue;
    const o = mbps(median(oursRuns.map((x) => x.wall)));
    const c = mbps(median(t.curl.map((x) => x.wall)));
    const ch = mbps(median(t.curl.map((x, k) => x.wall + t.hash[k].wall)));
    // Each run of ours sits next to a run of curl: the median of those per-pair ratios cancels
    // part of the load swings that the two medians alone carry.
    const paired = median(oursRuns.map((x, k) => t.curl[k].wall / x.wall));
    console.log(
      `| ${label} ${gib.toFixed(2)} GiB | ${o.toFixed(0)} | ${c.toFixed(0)} | ${(o / c).toFixed(2)} | ${paired.toFixed(2)} | ${ch.toFixed(0)} | ${(o / ch).toFixed(2)} |`,
    );
  }
  console.log(`\nCPU seconds per GiB (user + system), median of ${REPS}; the hub server's own CPU in its columns:\n`);
  console.log(
    "| transfer | @hearth/hub | curl | curl + openssl sha256 | (curl + sha256)/ours | server, ours | server, curl |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  for (const [label, oursRuns] of rows) {
    const t = results[label === "upload" ? "upload" : "download"];
    if (oursRuns.length === 0) continue;
    const o = median(oursRuns.map((x) => x.cpu)) / gib;
    const c = median(t.curl.map((x) => x.cpu)) / gib;
    const ch = median(t.curl.map((x, k) => x.cpu + t.hash[k].cpu)) / gib;
    const so = median(oursRuns.map((x) => x.serverCpu)) / gib;
    const sc = median(t.curl.map((x) => x.serverCpu)) / gib;
    console.log(
      `| ${label} | ${o.toFixed(2)} | ${c.toFixed(2)} | ${ch.toFixed(2)} | ${(ch / o).toFixed(2)} | ${so.toFixed(2)} | ${sc.toFixed(2)} |`,
    );
  }
} finally {
  cleanup();
}
