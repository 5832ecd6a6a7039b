/**
 * Hub client throughput over loopback: download and upload of one large file (default 1 GB)
 * with @hearth/hub beside curl, against the test hub (packages/hub/test/server) running in its
 * own process, in the same run. The file is generated in a temp folder and deleted after.
 *
 *   npm run bench -- hub [--size-mb 1024] [--reps 2]
 *
 * What each side does:
 * - download, ours: HEAD resolve + GET (302 -> storage) streamed to blobs/<sha>.incomplete,
 *   sha256 verified against the ETag, renamed, snapshot symlink. curl: GET -L to a file, no hash.
 * - upload, ours: sha256 of the file (the LFS protocol needs it first), preupload, LFS batch,
 *   one basic PUT, NDJSON commit. curl: PUT of the bytes to an upload URL from a batch call.
 *   The server sha256-checks both PUTs.
 */
import { execFileSync, spawn } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from "node:fs";
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
const REPS = arg("reps", 2);
const TOKEN = "hf_bench";

const work = mkdtempSync(join(tmpdir(), "hearth-bench-hub-"));
const lfsDir = join(work, "server");
execFileSync("mkdir", ["-p", lfsDir]);
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
  const curlVersion = execFileSync("curl", ["--version"], { encoding: "utf8" }).split("\n")[0];
  console.log(
    `hub bench: ${(SIZE / 2 ** 20).toFixed(0)} MiB over loopback, node ${process.versions.node}, ${curlVersion.split(" ").slice(0, 2).join(" ")}`,
  );
  console.log("note: 2 shared CPU cores; numbers are noisy and the server shares the machine");

  const file = join(work, "big.bin");
  const fd = openSync(file, "w");
  const chunk = Buffer.alloc(16 * 2 ** 20);
  for (let left = SIZE; left > 0; left -= chunk.length) {
    randomFillSync(chunk);
    writeSync(fd, chunk, 0, Math.min(left, chunk.length));
  }
  closeSync(fd);
  const sha = await sha256File(file);
  const call = { endpoint, accessToken: TOKEN, progressBar: false as const };
  await createRepo({ ...call, repo: "bench/big" });

  const time = async (fn: () => Promise<unknown> | unknown) => {
    const t0 = performance.now();
    await fn();
    return (performance.now() - t0) / 1000;
  };
  const mbps = (secs: number) => SIZE / 2 ** 20 / secs;

  // ---- upload ----
  const uploads = { ours: [] as number[], curl: [] as number[] };
  for (let r = 0; r < REPS; r++) {
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
    const href = ((await res.json()) as { objects: { actions: { upload: { href: string } } }[] }).objects[0].actions
      .upload.href;
    uploads.curl.push(
      await time(() => {
        const code = execFileSync("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-T", file, href], {
          encoding: "utf8",
        });
        if (code !== "200") throw new Error(`curl upload answered ${code}`);
      }),
    );
    rmSync(join(lfsDir, sha), { force: true });
    uploads.ours.push(await time(() => uploadFile({ ...call, repo: "bench/big", file, pathInRepo: `big-${r}.bin` })));
    if (statSync(join(lfsDir, sha)).size !== SIZE) throw new Error("upload did not store the object");
  }

  // ---- download ----
  const downloads = { ours: [] as number[], curl: [] as number[] };
  const url = `${endpoint}/bench/big/resolve/main/big-0.bin`;
  for (let r = 0; r < REPS; r++) {
    const out = join(work, "curl.out");
    downloads.curl.push(await time(() => execFileSync("curl", ["-sSfL", "-o", out, url])));
    if (statSync(out).size !== SIZE) throw new Error("curl download is short");
    rmSync(out);
    const cacheDir = join(work, `cache-${r}`);
    downloads.ours.push(await time(() => hfHubDownload({ ...call, repo: "bench/big", path: "big-0.bin", cacheDir })));
    if (statSync(join(cacheDir, "models--bench--big", "blobs", sha)).size !== SIZE)
      throw new Error("download is short");
    rmSync(cacheDir, { recursive: true });
  }

  const best = (xs: number[]) => Math.min(...xs);
  console.log("\n| transfer | @hearth/hub MiB/s | curl MiB/s | ratio (ours/curl) |");
  console.log("| --- | --- | --- | --- |");
  for (const [name, t] of [
    ["download", downloads],
    ["upload", uploads],
  ] as const) {
    const ours = mbps(best(t.ours));
    const peer = mbps(best(t.curl));
    console.log(
      `| ${name} ${(SIZE / 2 ** 30).toFixed(2)} GiB | ${ours.toFixed(0)} | ${peer.toFixed(0)} | ${(ours / peer).toFixed(2)} |`,
    );
  }
  console.log(
    `\nbest of ${REPS}; ours includes sha256 of the whole file (download: verify; upload: the oid the protocol needs first)`,
  );
} finally {
  cleanup();
}
