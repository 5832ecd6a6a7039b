/**
 * Hub client throughput over loopback: download and upload of one large file (default 1 GiB)
 * with @hearth/hub beside curl, against a hub server in its own process, in the same run,
 * interleaved (the order rotates every repetition). The file is generated in a temp folder and
 * deleted after.
 *
 *   npm run bench -- hub [--size-mb 1024] [--reps 5] [--only download|upload] [--server hearth|test]
 *
 * `--server hearth` (default): the Hearth hub server (packages/hub-server, fastify), the code
 * `hearth serve` runs, LFS objects served inline from its blob store; `test`: the small test
 * hub of packages/hub (test/server, node:http). Either serves both clients alike.
 *
 * The floors: a download whose sha256 is checked cannot end before its last byte is hashed,
 * and sha256 is serial (one core), so ours >= the sha256 time of the file; the bench measures
 * node's sha256 on one core (OpenSSL, with SHA-NI when /proc/cpuinfo lists sha_ni) and prints
 * that ceiling, curl / sha256 (with the hash's CPU time, and with its wall time at the start of
 * the run, which the machine's load stretches), beside the ratio. The upload's ceiling is
 * printed likewise.
 *
 * Peers: curl alone, and "curl + openssl sha256" (`openssl dgst -sha256`, SHA-NI where the CPU
 * has it): what a curl user must add to get the same guarantee (the download checked against
 * its sha256; the LFS oid known before the upload). Every figure is the median of the
 * repetitions (the machine is shared, so single runs swing by 2x); "paired" is the median of
 * the per-repetition ratios. CPU seconds (user + system, all threads) are printed too because
 * they are steadier there, for the client and for the hub server process.
 *
 * Unless `--no-sendfile` (or without python3), the download is also timed from a sendfile
 * server (bench/peers/sendfile_server.py: os.sendfile, ~0.05 CPU s/GiB), curl beside
 * `fetchToFile` (the GET + sha256 + write of hfHubDownload, without its HEAD, lock and rename),
 * worker and inline: the two cores are then left to the client, as when the hub is another
 * machine, where the Hearth server's ~0.4 CPU s/GiB of sending is not on the client's cores.
 *
 * Per-party CPU (the table after the download rows): the hub server's main thread and its other
 * threads (thread pool reads, GC), from /proc/<pid>/task; the client's main thread
 * (/proc/self/task/<pid>); the sha256 worker thread's own CPU and the time it was ready but
 * waited for a core (/proc/thread-self/{stat,schedstat}, published by @hearth/hub on the timing
 * channel); the rest of the client process. Its `bound` = max(busiest thread, all CPU / cores) is
 * the least wall time that CPU allows, and the `why` line prints the ceiling of any
 * sha256-checked download against curl on this machine: max(sha256 alone, (curl's server +
 * client CPU + sha256) / cores).
 *
 * Session 7: perf put the server's buffered send path at >95% kernel (copy into the socket 47%,
 * page cache to buffer 21%; fastify/JS under 5%), so the server now sends LFS bodies with
 * sendfile(2) (hub-server native/sendfile.c): its CPU per GiB went from ~0.43 to ~0.06, which
 * frees the second core for our sha256 thread (it no longer waits for a core) and also moves
 * work to every receiver: on loopback the data no longer arrives cache-warm from the server's
 * copy, so curl's own CPU rose from ~0.55-0.65 to ~0.77 s/GiB and its wall time with it (the
 * per-party table shows both). `HEARTH_HUBSERVER_SENDFILE=0 npm run bench -- hub` gives the
 * buffered server for comparison.
 *
 * Since then the sha256 thread alone is the critical path: ~0.9-0.98 CPU s/GiB (sha256 itself
 * 0.75-0.85 + ~0.1 reading the file back + its boot), no wait for a core, and ours ends ~0.05 s
 * after it; so ours/curl ~ curl / that, 0.75-0.85 in session 7's runs as curl and the sha256
 * speed of the moment vary.
 *
 * Tried in session 7 and not kept (1 GiB, interleaved, load ~2, s/GiB medians): with the
 * buffered server, its reads on the event loop (readSync, 1 MiB or 256 KiB) instead of the
 * thread pool gave ours 0.98 vs 1.02 (4 pairs, within the spread) while blocking the loop on a
 * cold disk, a hash thread kept warm between downloads (saves its 40-65 ms boot) 1.05 vs 1.06,
 * 256 KiB read-backs 1.08 vs 1.05 (5 each); with sendfile, the warm thread 0.98 vs 0.98, and
 * the receiving thread held at most 16 or 64 MiB ahead of the hash thread (so it reads back
 * cache-warm pages) 1.00 vs 1.00.
 *
 * Session 8: a time-line of one download (phases on the timing channel, now including HEAD,
 * lock, first byte and the hash thread's own account) put the Worker's extras at ~40 ms booting
 * and ~160-200 ms in pread copying the page cache back, beside ~850-950 ms of sha256; HEAD + lock
 * + first byte ~15 ms, rename ~0. So the default thread is now native (packages/hub
 * native/hash-thread.c): a pthread that hashes the page-cache pages in place through mmap
 * (MAP_POPULATE, 64 MiB windows; ~50-60 ms of mapping per GiB; without populate, or with 4 or
 * 16 MiB windows, the same within noise). The Worker stays as the fallback and has its own row.
 * The hub server's LFS PUT hashing on such a thread behind its writes gave paired curl PUTs of
 * 2.16-2.47 vs 2.53-3.34 s/GiB inline (load ~4, one earlier run worse); not kept, since the
 * server stands alone and would need its own copy of the C file. What dominates the server's PUT
 * is V8's garbage collection: perf and --trace-gc-nvp put ~30-45 mark-compacts per GiB received
 * (node's parser copies every body piece into a fresh Buffer), ~1.0-1.5 CPU s/GiB on V8's worker
 * threads; writing one 1 MiB buffer at a time (no i_rwsem contention) did not help.
 *
 * Our rows carry their parts, from the phase timings @hearth/hub publishes on the
 * `hearth:hub:timing` diagnostics channel (src/utils/timing.ts):
 * - download: `body` = first request to last byte received and written (the sha256 runs beside
 *   it on a worker that reads the file back behind the writer), `hash tail` = last byte to
 *   digest known. HEAD
 *   resolve + GET (302 -> storage) on a bare socket, blobs/<sha>.incomplete, rename, snapshot
 *   symlink, under the blob lock. A second row hashes inline (HEARTH_HUB_HASH_THREAD=inline).
 * - upload: `sha256` of the local file (the LFS protocol needs the oid before the batch call
 *   that hands out the PUT URL), `PUT`, and the API round trips (preupload, LFS batch, verify,
 *   NDJSON commit). curl: the PUT alone, to an upload URL from a batch call. The server
 *   sha256-checks both PUTs. For one file ours >= sha256 + PUT while curl is the PUT alone, so
 *   the bench prints that ceiling, PUT / (sha256 + PUT), beside the ratio.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { subscribe } from "node:diagnostics_channel";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import type { Socket } from "node:net";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fetchToFile } from "../packages/hub/src/download/fetch-to-file.ts";
import { createRepo, hfHubDownload, uploadFile } from "../packages/hub/src/index.ts";
import { sha256File } from "../packages/hub/src/utils/hash.ts";
import { TIMING_CHANNEL, type TimingMessage } from "../packages/hub/src/utils/timing.ts";

/**
 * Where each download's CPU went, per party, and what that allows: a download cannot end before
 * its busiest thread (ours: the sha256 thread) has done its work, nor before all the CPU of all
 * parties (server + client) has run on the machine's cores.
 */
function partyTable(curl: Run[], worker: Run[], inline: Run[], js: Run[], hashCpu: number, gib: number): void {
  const cores = availableParallelism();
  const med = (xs: number[]) => {
    const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
    if (v.length === 0) return Number.NaN;
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const g = (x: number) => (Number.isFinite(x) ? (x / gib).toFixed(2) : "-");
  console.log(
    `\nper-party CPU, s/GiB (medians); bound = max(busiest thread, all CPU / ${cores} cores), the least wall time that CPU allows:\n`,
  );
  console.log(
    "| download | wall | server main thread | server other threads | client main thread | sha256 thread (waited for a core) | client other threads | all | bound |",
  );
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  const line = (label: string, xs: Run[], client: (x: Run) => { main: number; hash: number; other: number }) => {
    if (xs.length === 0) return;
    const all = (x: Run) => x.serverCpu + x.cpu;
    const busiest = (x: Run) =>
      Math.max(...[x.serverMain, x.serverCpu - x.serverMain, ...Object.values(client(x))].filter(Number.isFinite));
    const bound = med(xs.map((x) => Math.max(busiest(x), all(x) / cores)));
    console.log(
      `| ${label} | ${g(med(xs.map((x) => x.wall)))} | ${g(med(xs.map((x) => x.serverMain)))} | ${g(med(xs.map((x) => x.serverCpu - x.serverMain)))} | ${g(med(xs.map((x) => client(x).main)))} | ${g(med(xs.map((x) => client(x).hash)))}${xs[0].parts["download-hash-thread-queued"] === undefined ? "" : ` (${g(med(xs.map((x) => x.parts["download-hash-thread-queued"] / 1000)))})`} | ${g(med(xs.map((x) => client(x).other)))} | ${g(med(xs.map(all)))} | ${g(bound)} |`,
    );
  };
  line("curl (one thread)", curl, (x) => ({ main: x.cpu, hash: Number.NaN, other: 0 }));
  const ours = (x: Run) => {
    const main = x.clientMain ?? Number.NaN;
    const hash = x.hashThread ?? 0;
    return { main, hash, other: x.cpu - main - hash };
  };
  line("@hearth/hub, sha256 on the native thread", worker, ours);
  line("@hearth/hub, sha256 inline", inline, ours);
  line("@hearth/hub, sha256 on a node Worker", js, ours);
  // The best any sha256-checked download could do here: the sha256 alone on one core, and
  // curl's receive path (server + client) plus that sha256 spread over the cores.
  const curlWall = med(curl.map((x) => x.wall));
  const curlAll = med(curl.map((x) => x.serverCpu + x.cpu));
  const ideal = Math.max(hashCpu * gib, (curlAll + hashCpu * gib) / cores);
  const w = med(worker.map((x) => x.wall));
  console.log(
    `\nwhy: a checked download needs the sha256 of every byte, serial on one thread (${hashCpu.toFixed(2)} CPU s/GiB here), on top of curl's receive path (${g(curlAll)} CPU s/GiB, server + curl); so even with nothing else to do and perfect overlap it takes >= max(${hashCpu.toFixed(2)}, (${g(curlAll)} + ${hashCpu.toFixed(2)}) / ${cores}) = ${g(ideal)} s/GiB, a ceiling of curl / that = ${(curlWall / ideal).toFixed(2)} vs curl; ours (default thread) reached ${(curlWall / w).toFixed(2)}, its sha256 thread ran ${g(med(worker.map((x) => x.hashThread ?? Number.NaN)))} CPU s/GiB (sha256, mapping or reading the file back, starting) and waited ${g(med(worker.map((x) => (x.parts["download-hash-thread-queued"] ?? Number.NaN) / 1000)))} s/GiB for a core taken by the other threads`,
  );
}

const args = process.argv.slice(2);
const arg = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const SIZE = arg("size-mb", 1024) * 1024 * 1024;
const REPS = arg("reps", 5);
/** `--only download`: upload once (the file must exist on the hub), then time downloads only. */
const ONLY = args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined;

interface Run {
  wall: number;
  cpu: number;
  /** Milliseconds per phase of ours (from the timing channel); empty for the peers. */
  parts: Record<string, number>;
  /** CPU seconds the hub server process spent during the same step. */
  serverCpu: number;
  /** Of `serverCpu`: its main (event-loop) thread; the rest is its thread pool and GC threads. */
  serverMain: number;
  /** Ours only: CPU seconds of the client's main thread, and of the sha256 worker thread. */
  clientMain?: number;
  hashThread?: number;
}

/** utime + stime of a /proc stat file, in seconds (clock ticks, USER_HZ = 100); NaN if unreadable. */
function statCpu(path: string): number {
  try {
    const s = readFileSync(path, "latin1");
    const fields = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds the hub server process has used so far, in all and on its main thread. */
function serverCpuNow(): { all: number; main: number } {
  return { all: statCpu(`/proc/${server.pid}/stat`), main: statCpu(`/proc/${server.pid}/task/${server.pid}/stat`) };
}

/**
 * Flushes dirty pages before each timed step, so no step pays the kernel's write-back of the
 * gigabyte the previous one wrote (that cost lands on whoever writes next, as system time).
 */
const settle = () => spawnSync("sync");

/**
 * Seconds per GiB of node's sha256 on one core, wall and CPU: the best of 3 passes over
 * 256 MiB in memory (the wall figure is what a download competes with on a loaded machine).
 */
function sha256SecondsPerGib(): { wall: number; cpu: number } {
  const buf = randomFillSync(Buffer.allocUnsafe(256 << 20));
  let wall = Number.POSITIVE_INFINITY;
  let cpu = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 3; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const h = createHash("sha256");
    for (let at = 0; at < buf.length; at += 1 << 20) h.update(buf.subarray(at, at + (1 << 20)));
    h.digest();
    const c = process.cpuUsage(c0);
    wall = Math.min(wall, (performance.now() - t0) / 1000);
    cpu = Math.min(cpu, (c.user + c.system) / 1e6);
  }
  return { wall: wall * 4, cpu: cpu * 4 };
}

/** Runs a command under /usr/bin/time: wall and CPU seconds, and its stdout. */
function child(cmd: string, argv: string[]): Run & { stdout: string } {
  settle();
  const s0 = serverCpuNow();
  const t0 = performance.now();
  const r = spawnSync("/usr/bin/time", ["-f", "CPU %U %S", cmd, ...argv], { encoding: "utf8" });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(" ")} failed: ${r.stderr}`);
  const m = /CPU ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  const s1 = serverCpuNow();
  return {
    wall,
    cpu: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    serverCpu: s1.all - s0.all,
    serverMain: s1.main - s0.main,
    parts: {},
    stdout: r.stdout,
  };
}

// Phase timings published by @hearth/hub (src/utils/timing.ts), collected per run of ours.
let phases: TimingMessage[] = [];
subscribe(TIMING_CHANNEL, (m) => phases.push(m as TimingMessage));

/** Wall and CPU seconds of an in-process call (CPU of every thread of this process). */
async function ours(fn: () => Promise<unknown>): Promise<Run> {
  settle();
  phases = [];
  const mainStat = `/proc/self/task/${process.pid}/stat`;
  const s0 = serverCpuNow();
  const m0 = statCpu(mainStat);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) / 1000;
  const m1 = statCpu(mainStat);
  const s1 = serverCpuNow();
  const parts: Record<string, number> = {};
  for (const p of phases) parts[p.phase] = (parts[p.phase] ?? 0) + p.ms;
  return {
    wall,
    cpu: (c.user + c.system) / 1e6,
    serverCpu: s1.all - s0.all,
    serverMain: s1.main - s0.main,
    clientMain: m1 - m0,
    hashThread: "download-hash-thread-cpu" in parts ? parts["download-hash-thread-cpu"] / 1000 : undefined,
    parts,
  };
}

/**
 * Child mode: the Hearth hub server (packages/hub-server) on a data folder, basic LFS PUTs only
 * (as for the test hub, so ours and curl send the same single PUT); prints `{url, token}`.
 */
if (args.includes("--serve-hearth")) {
  const { buildApp } = await import("../packages/hub-server/src/app.ts");
  const { createUser } = await import("../packages/hub-server/src/bootstrap.ts");
  const app = await buildApp({
    dataDir: args[args.indexOf("--serve-hearth") + 1],
    limits: { multipartThreshold: Number.MAX_SAFE_INTEGER },
    spaces: false,
  });
  const { token } = await createUser(app, { name: "bench" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const addr = app.server.address() as { port: number };
  console.log(JSON.stringify({ url: `http://127.0.0.1:${addr.port}`, token }));
  process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
  await new Promise(() => {}); // served until SIGTERM
}

/** `--server hearth` (default): packages/hub-server; `--server test`: the test hub of packages/hub. */
const SERVER = args.includes("--server") ? args[args.indexOf("--server") + 1] : "hearth";
if (SERVER !== "test" && SERVER !== "hearth") throw new Error(`--server must be 'test' or 'hearth', got '${SERVER}'`);
const work = mkdtempSync(join(tmpdir(), "hearth-bench-hub-"));
const lfsDir = join(work, "server");
mkdirSync(lfsDir);
/** Where the server keeps an LFS object (removed to make it want the object again). */
const objectPath = (oid: string) =>
  SERVER === "test" ? join(lfsDir, oid) : join(lfsDir, "lfs", "objects", oid.slice(0, 2), oid.slice(2, 4), oid);
const server =
  SERVER === "test"
    ? spawn(
        process.execPath,
        ["--import", "tsx", join(import.meta.dirname, "..", "packages/hub/test/server/main.ts")],
        {
          env: {
            ...process.env,
            HUB_LFS_DIR: lfsDir,
            HUB_TOKEN: "hf_bench",
            HUB_MULTIPART_THRESHOLD: String(Number.MAX_SAFE_INTEGER),
          },
          stdio: ["ignore", "pipe", "inherit"],
        },
      )
    : spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--serve-hearth", lfsDir], {
        stdio: ["ignore", "pipe", "inherit"],
      });
const cleanup = () => {
  server.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
};
process.on("exit", cleanup);

try {
  const { url: endpoint, token: TOKEN } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    server.stdout.once("data", (d) => resolve({ token: "hf_bench", ...JSON.parse(String(d)) }));
    server.once("exit", (c) => reject(new Error(`hub server exited ${c}`)));
  });
  const curlVersion = spawnSync("curl", ["--version"], { encoding: "utf8" }).stdout.split(" ").slice(0, 2).join(" ");
  console.log(
    `hub bench: ${(SIZE / 2 ** 20).toFixed(0)} MiB over loopback, ${SERVER === "test" ? "test hub (packages/hub/test/server)" : "Hearth hub server (packages/hub-server)"}, node ${process.versions.node}, ${curlVersion}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")}`,
  );
  console.log("note: 2 shared CPU cores; wall-clock numbers are noisy, CPU seconds less so");
  const { wall: hashFloor, cpu: hashCpu } = sha256SecondsPerGib();
  const shaNi = /\bsha_ni\b/.test(readFileSync("/proc/cpuinfo", "utf8"));
  console.log(
    `sha256 on one core (node ${process.versions.openssl ? `OpenSSL ${process.versions.openssl}` : ""}, CPU sha_ni: ${shaNi ? "yes" : "no"}): ${hashFloor.toFixed(2)} s/GiB wall, ${hashCpu.toFixed(2)} s/GiB CPU, best of 3 over 256 MiB in memory`,
  );

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
  // The sendfile server (see the header), serving the generated file.
  const sendfileServer =
    !args.includes("--no-sendfile") && spawnSync("python3", ["--version"]).status === 0
      ? spawn("python3", [join(import.meta.dirname, "peers", "sendfile_server.py"), file], {
          stdio: ["ignore", "pipe", "inherit"],
        })
      : undefined;
  if (sendfileServer) process.on("exit", () => sendfileServer.kill());
  const sendfilePort =
    sendfileServer &&
    (await new Promise<number>((resolve) =>
      sendfileServer.stdout?.once("data", (d) => resolve(Number(String(d).trim()))),
    ));
  // Neither its pipe nor the child keeps the bench alive (it is killed on exit).
  (sendfileServer?.stdout as unknown as Socket | undefined)?.unref();
  sendfileServer?.unref();
  const sendfileUrl = sendfileServer && `http://127.0.0.1:${sendfilePort}/big.bin`;
  await createRepo({ ...call, repo: "bench/big" });

  const results = {
    upload: { ours: [] as Run[], curl: [] as Run[], hash: [] as Run[] },
    download: { ours: [] as Run[], curl: [] as Run[], hash: [] as Run[], inline: [] as Run[], js: [] as Run[] },
    sendfile: { ours: [] as Run[], curl: [] as Run[], inline: [] as Run[] },
  };

  for (let r = 0; r < REPS; r++) {
    // ---- upload (once with --only download: the download needs the file on the hub) ----
    if (ONLY !== "download" || r === 0) {
      rmSync(objectPath(sha), { force: true }); // make the hub want the object again
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
        rmSync(objectPath(sha), { force: true });
        await oursUpload();
      } else {
        await oursUpload();
        rmSync(objectPath(sha), { force: true });
        curlUpload();
      }
      if (statSync(objectPath(sha)).size !== SIZE) throw new Error("upload did not store the object");
    }
    if (ONLY === "upload") continue;

    // ---- download ----
    const out = join(work, "curl.out");
    const cacheDir = join(work, `cache-${r}`);
    const curlDownload = () => {
      results.download.curl.push(child("curl", ["-sSfL", "-o", out, `${endpoint}/bench/big/resolve/main/big-0.bin`]));
      results.download.hash.push(opensslSha(out));
      rmSync(out);
    };
    // Ours three times: sha256 on another thread behind the writer (the default for big files:
    // the native thread where built), inline on the receiving thread (HEARTH_HUB_HASH_THREAD=
    // inline), and "worker-js": the node Worker that stands in where the native thread is not built.
    const oursDownload = async (mode: "inline" | "worker" | "worker-js") => {
      process.env.HEARTH_HUB_HASH_THREAD = mode === "inline" ? "inline" : "worker";
      if (mode === "worker-js") process.env.HEARTH_HUB_NATIVE_HASH = "0";
      const run = await ours(() => hfHubDownload({ ...call, repo: "bench/big", path: "big-0.bin", cacheDir }));
      delete process.env.HEARTH_HUB_HASH_THREAD;
      delete process.env.HEARTH_HUB_NATIVE_HASH;
      (mode === "inline"
        ? results.download.inline
        : mode === "worker"
          ? results.download.ours
          : results.download.js
      ).push(run);
      if (statSync(join(cacheDir, "models--bench--big", "blobs", sha)).size !== SIZE)
        throw new Error("download is short");
      rmSync(cacheDir, { recursive: true });
    };
    // From the sendfile server: curl, and fetchToFile with the hash on a worker and inline.
    const curlSendfile = () => {
      results.sendfile.curl.push(child("curl", ["-sSf", "-o", out, sendfileUrl as string]));
      rmSync(out);
    };
    const oursSendfile = async (mode: "inline" | "worker") => {
      process.env.HEARTH_HUB_HASH_THREAD = mode;
      const ctx = { endpoint, fetch: globalThis.fetch };
      const run = await ours(() =>
        fetchToFile({
          ctx,
          url: sendfileUrl as string,
          auth: false,
          dest: out,
          expectedSize: SIZE,
          etag: sha,
          path: "big.bin",
        }),
      );
      delete process.env.HEARTH_HUB_HASH_THREAD;
      (mode === "inline" ? results.sendfile.inline : results.sendfile.ours).push(run);
      if (statSync(out).size !== SIZE) throw new Error("download is short");
      rmSync(out);
    };
    // Rotate the order so no one always inherits the others' page-cache and CPU state.
    const steps = [
      curlDownload,
      () => oursDownload("worker"),
      () => oursDownload("inline"),
      () => oursDownload("worker-js"),
    ];
    if (sendfileUrl)
      steps.push(
        curlSendfile,
        () => oursSendfile("worker"),
        () => oursSendfile("inline"),
      );
    for (let k = 0; k < steps.length; k++) await steps[(k + r) % steps.length]();
  }

  const gib = SIZE / 2 ** 30;
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const perGib = (xs: number[]) => (median(xs) / gib).toFixed(2);
  const runs = (xs: Run[], pick: (x: Run) => number) => xs.map(pick);
  console.log(
    `\nseconds per GiB, median of ${REPS} runs (ours and curl interleaved); ratio = curl time / our time (1 = as fast as curl); paired = median of the per-repetition ratios:\n`,
  );
  console.log("| step | wall s/GiB | vs curl | paired | parts (s/GiB) | CPU s/GiB | server CPU s/GiB |");
  console.log("| --- | --- | --- | --- | --- | --- | --- |");
  const row = (label: string, xs: Run[], peer: Run[] | undefined, parts: string) => {
    if (xs.length === 0) return;
    const ratio = peer ? (median(peer.map((x) => x.wall)) / median(xs.map((x) => x.wall))).toFixed(2) : "";
    const paired = peer ? median(xs.map((x, k) => peer[k].wall / x.wall)).toFixed(2) : "";
    console.log(
      `| ${label} | ${perGib(runs(xs, (x) => x.wall))} | ${ratio} | ${paired} | ${parts} | ${perGib(runs(xs, (x) => x.cpu))} | ${perGib(runs(xs, (x) => x.serverCpu))} |`,
    );
  };
  const sum = (a: Run[], b: Run[]): Run[] =>
    a.map((x, k) => ({
      wall: x.wall + b[k].wall,
      cpu: x.cpu + b[k].cpu,
      serverCpu: x.serverCpu + b[k].serverCpu,
      serverMain: x.serverMain + b[k].serverMain,
      parts: {},
    }));
  const part = (xs: Run[], name: string) => perGib(xs.map((x) => (x.parts[name] ?? 0) / 1000));
  const d = results.download;
  if (d.curl.length > 0) {
    row("download: curl", d.curl, undefined, "");
    row("download: openssl sha256 of curl's file", d.hash, undefined, "");
    row("download: curl + openssl sha256", sum(d.curl, d.hash), undefined, "");
    // The hash thread's own account (wall s/GiB): start, getting the bytes (mmap natively, pread
    // on the node Worker), the sha256 updates; and the HEAD + lock before the GET.
    const dparts = (xs: Run[]) =>
      `body ${part(xs, "download-body")}, hash tail ${part(xs, "download-hash-tail")}` +
      (xs[0]?.parts["download-hash-thread-hash"] === undefined
        ? ""
        : `; hash thread ${xs[0].parts["download-hash-thread-boot"] < 1 ? "(native)" : "(Worker)"}: start ${part(xs, "download-hash-thread-boot")}, ${xs[0].parts["download-hash-thread-boot"] < 1 ? "mmap" : "pread"} ${part(xs, "download-hash-thread-read")}, sha256 ${part(xs, "download-hash-thread-hash")}`) +
      (xs[0]?.parts["download-head"] === undefined
        ? ""
        : `; HEAD + lock ${median(xs.map((x) => (x.parts["download-head"] ?? 0) + (x.parts["download-lock"] ?? 0))).toFixed(0)} ms`);
    row(
      "download: @hearth/hub, sha256 on another thread (default; native where built)",
      d.ours,
      d.curl,
      dparts(d.ours),
    );
    row("download: @hearth/hub, sha256 inline", d.inline, d.curl, dparts(d.inline));
    row("download: @hearth/hub, sha256 on a node Worker (no addon)", d.js, d.curl, dparts(d.js));
    console.log(
      `\ndownload floor: ours cannot end before the sha256 of the file, ${hashCpu.toFixed(2)} CPU s/GiB on one core (${hashFloor.toFixed(2)} s wall at the start of this run), so vs curl <= curl / sha256 = ${(median(d.curl.map((x) => x.wall)) / gib / hashCpu).toFixed(2)} with a core to itself, ${(median(d.curl.map((x) => x.wall)) / gib / hashFloor).toFixed(2)} at the start's load`,
    );
    const sf = results.sendfile;
    if (sf.curl.length > 0) {
      row("download from a sendfile server: curl", sf.curl, undefined, "");
      row(
        "download from a sendfile server: fetchToFile, sha256 on a worker (default)",
        sf.ours,
        sf.curl,
        dparts(sf.ours),
      );
      row("download from a sendfile server: fetchToFile, sha256 inline", sf.inline, sf.curl, dparts(sf.inline));
    }
    console.log(
      `download vs curl + openssl sha256 (same guarantee): worker ${(median(sum(d.curl, d.hash).map((x) => x.wall)) / median(d.ours.map((x) => x.wall))).toFixed(2)}, inline ${(median(sum(d.curl, d.hash).map((x) => x.wall)) / median(d.inline.map((x) => x.wall))).toFixed(2)}; worker vs inline, paired: ${median(d.ours.map((x, k) => d.inline[k].wall / x.wall)).toFixed(2)}`,
    );
    partyTable(d.curl, d.ours, d.inline, d.js, hashCpu, gib);
  }
  const u = results.upload;
  if (u.ours.length > 0) {
    console.log("");
    console.log("| step | wall s/GiB | vs curl | paired | parts (s/GiB) | CPU s/GiB | server CPU s/GiB |");
    console.log("| --- | --- | --- | --- | --- | --- | --- |");
    row("upload: curl PUT", u.curl, undefined, "");
    row("upload: openssl sha256", u.hash, undefined, "");
    row("upload: openssl sha256 + curl PUT", sum(u.curl, u.hash), undefined, "");
    const api = (x: Run) =>
      ["preupload", "lfs-batch", "lfs-verify", "commit"].reduce((a, n) => a + (x.parts[n] ?? 0), 0) / 1000;
    row(
      "upload: @hearth/hub uploadFile",
      u.ours,
      u.curl,
      `sha256 ${part(u.ours, "sha256")}, PUT ${part(u.ours, "lfs-put")}, API calls ${(median(u.ours.map(api)) * 1000).toFixed(0)} ms`,
    );
    // The LFS protocol needs the oid (sha256) before the batch call that hands out the PUT URL,
    // so for one file ours >= sha256 + PUT, while curl's figure is the PUT alone.
    const hashS = median(u.ours.map((x) => (x.parts.sha256 ?? 0) / 1000)) / gib;
    const putS = median(u.curl.map((x) => x.wall)) / gib;
    console.log(
      `\nupload ceiling for one file, in s/GiB: curl PUT / (our sha256 + curl PUT) = ${putS.toFixed(2)} / (${hashS.toFixed(2)} + ${putS.toFixed(2)}) = ${(putS / (hashS + putS)).toFixed(2)}; vs openssl sha256 + curl PUT: ${(median(sum(u.curl, u.hash).map((x) => x.wall)) / median(u.ours.map((x) => x.wall))).toFixed(2)}`,
    );
  }
  console.log(
    `\nload average (1, 5, 15 min) at the end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(", ")}`,
  );
} finally {
  cleanup();
}
