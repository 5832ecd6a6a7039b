import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type AllocatorStats, allocateAligned, mapFile, mapShared, native, nativeLoadError } from "./index.ts";

const addonPath = fileURLToPath(new URL("../../build/Release/hearth_native.node", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hearth-native-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const jsForced = process.env.HEARTH_BACKEND === "js" && "HEARTH_BACKEND=js turns the native addon off";

describe("native addon", { skip: jsForced }, () => {
  test("loads on this machine (CI builds it during npm install)", () => {
    assert.equal(nativeLoadError, null);
    assert.ok(native);
  });

  test("allocate returns zeroed memory of the requested size", () => {
    const buf = allocateAligned(1000);
    assert.equal(buf.byteLength, 1000);
    const view = new Uint8Array(buf);
    assert.ok(view.every((v) => v === 0));
    view.fill(7);
    assert.equal(view[999], 7);
    assert.equal(allocateAligned(0).byteLength, 0);
  });

  test("allocate rejects bad sizes with the function and argument named", () => {
    const addon = native;
    assert.ok(addon);
    assert.throws(() => addon.allocate(-1), /allocate: argument 'nbytes'/);
    assert.throws(
      () => (addon as unknown as { allocate(x: string): void }).allocate("x"),
      /allocate: argument 'nbytes'/,
    );
  });

  test("free releases an allocation at once and detaches it; other buffers are left alone", () => {
    const addon = native;
    assert.ok(addon);
    const buf = addon.allocate(1 << 20);
    const view = new Float32Array(buf);
    view[5] = 3;
    assert.equal(addon.free(buf), true);
    assert.equal(buf.byteLength, 0);
    assert.equal(view.length, 0);
    assert.equal(addon.free(buf), false);
    assert.equal(addon.free(new ArrayBuffer(16)), false);
    assert.throws(() => (addon.free as unknown as (x: unknown) => boolean)(7), /free: argument 'buffer'/);
    // A reused block comes back zero-filled.
    const again = new Float32Array(addon.allocate(1 << 20));
    assert.ok(again.every((v) => v === 0));
  });

  test("a loop that never yields keeps nothing per buffer: freed and collected ones are back at once", () => {
    // Its own process, so that other tests' buffers do not move the counters. A training loop
    // never gives the event loop a turn; Node runs N-API finalizers only there, so with them
    // every buffer left a record (~175 bytes of malloc) until the loop ended.
    const script = `const n = require(${JSON.stringify(addonPath)});
const used = () => { const m = n.mallocStats(); return m ? m.inUseBytes + m.mappedBytes : 0; };
for (let i = 0; i < 1000; i++) n.free(n.allocate(65536));
const before = used();
for (let i = 0; i < 50000; i++) n.free(n.allocate(65536));
const freedGrowth = used() - before;
const live = n.allocatorStats().liveBytes;
let kept = Array.from({ length: 2000 }, () => n.allocate(65536));
const held = n.allocatorStats().liveBytes - live;
kept = null;
gc();
console.log(JSON.stringify({ freedGrowth, held, collected: live - n.allocatorStats().liveBytes + held, stats: n.allocatorStats() }));`;
    const out = execFileSync(process.execPath, ["--expose-gc", "-e", script], { encoding: "utf8" });
    const r = JSON.parse(out) as { freedGrowth: number; held: number; collected: number; stats: AllocatorStats };
    assert.ok(r.freedGrowth < 1 << 20, `50,000 allocate/free pairs grew malloc's heap by ${r.freedGrowth} bytes`);
    assert.equal(r.held, 2000 * 65536);
    assert.equal(r.collected, r.held, "a collection hands unreferenced buffers back before the loop goes on");
    assert.ok(r.stats.cachedBytes >= r.held && r.stats.cachedBlocks >= 2000, out);
    assert.ok(r.stats.peakLiveBytes >= r.stats.liveBytes + r.held, out);
  });

  test("a worker's buffers are freed when it ends", () => {
    // Its own process (the counters are the process's, shared by its threads).
    const script = `const { Worker } = require("node:worker_threads");
const n = require(${JSON.stringify(addonPath)});
const code = 'const n = require(' + ${JSON.stringify(JSON.stringify(addonPath))} + '); globalThis.kept = [n.allocate(8 << 20), n.allocate(1 << 20)]; require("node:worker_threads").parentPort.postMessage(0);';
(async () => {
  const before = n.allocatorStats().liveBytes;
  const w = new Worker(code, { eval: true });
  await new Promise((r) => w.once("message", r));
  const running = n.allocatorStats().liveBytes - before;
  await w.terminate();
  console.log(JSON.stringify({ running, after: n.allocatorStats().liveBytes - before }));
})();`;
    const out = execFileSync(process.execPath, ["-e", script], { encoding: "utf8" });
    assert.deepEqual(JSON.parse(out), { running: 9 << 20, after: 0 });
  });

  test("mapFile maps read-only files copy-on-write: writes never reach the file", () => {
    const path = join(dir, "data.bin");
    writeFileSync(path, Buffer.from([1, 2, 3, 4, 5]));
    const mapped = new Uint8Array(mapFile(path));
    assert.deepEqual([...mapped], [1, 2, 3, 4, 5]);
    mapped[0] = 99;
    assert.equal(mapped[0], 99);
    assert.deepEqual([...readFileSync(path)], [1, 2, 3, 4, 5]);
  });

  test("mapShared: two mappings of one file (as two processes) see each other's writes; it grows, never shrinks", () => {
    const path = join(dir, "shared.bin");
    const a = mapShared(path, 64);
    assert.ok(a);
    assert.equal(a.byteLength, 64);
    assert.equal(readFileSync(path).length, 64); // created and grown
    const b = mapShared(path, 16); // never shrinks: still the whole file
    assert.equal(b?.byteLength, 64);
    const fa = new Float32Array(a);
    const fb = new Float32Array(b as ArrayBuffer);
    fa[3] = 1.5;
    assert.equal(fb[3], 1.5);
    fb[15] = -2;
    assert.equal(fa[15], -2);
    assert.equal(readFileSync(path).readFloatLE(12), 1.5); // shared, not copy-on-write
    const grown = mapShared(path, 4096);
    assert.equal(grown?.byteLength, 4096);
    assert.equal(new Float32Array(grown as ArrayBuffer)[3], 1.5);
    assert.throws(() => mapShared(path, -1), /mapShared: argument 'nbytes'/);
    assert.throws(() => mapShared(join(dir, "no", "dir", "x"), 8), /mapShared: cannot open/);
  });

  test("mapFile names the missing file", () => {
    assert.throws(() => mapFile(join(dir, "nope.bin")), /nope\.bin/);
  });

  test("HEARTH_NUM_THREADS sizes the thread pool; setNumThreads(0) restores it", () => {
    const script = `const n = require(${JSON.stringify(addonPath)}); const a = n.numThreads(); n.setNumThreads(5); const b = n.numThreads(); n.setNumThreads(0); console.log(a, b, n.numThreads());`;
    const out = execFileSync(process.execPath, ["-e", script], {
      env: { ...process.env, HEARTH_NUM_THREADS: "3" },
      encoding: "utf8",
    });
    assert.equal(out.trim(), "3 5 3");
  });

  test("poolStats counts the jobs that reach the workers and the caller's CPU time", () => {
    // Its own process with a pool of 2, so other tests' kernels do not move the counters.
    const script = `const n = require(${JSON.stringify(addonPath)});
const b = n.allocate(64 << 20); const a = n.poolStats(); n.streamRead(b, 64 << 20); const c = n.poolStats();
console.log(JSON.stringify({ a, c }));`;
    const out = execFileSync(process.execPath, ["-e", script], {
      env: { ...process.env, HEARTH_NUM_THREADS: "2" },
      encoding: "utf8",
    });
    const { a, c } = JSON.parse(out) as Record<"a" | "c", Record<string, number>>;
    const d = (k: string) => (c[k] as number) - (a[k] as number);
    assert.equal(d("jobs"), 1);
    assert.ok(d("tasks") >= 2 && d("helperTasks") <= d("tasks") - 1, out);
    assert.ok(d("helped") === (d("helperTasks") > 0 ? 1 : 0), out);
    assert.ok(d("waitMs") >= 0 && d("waitMs") <= d("jobMs") && d("jobMs") > 0, out);
    assert.ok(d("threadCpuMs") > 0, out);
    assert.equal(typeof c.prefetchedBytes, "number");
  });

  test("few-row products hand the matrix that followed them last time to the idle workers to read ahead", () => {
    // A then B, then A again: after A the idle worker reads B ahead while the caller spins here.
    const script = `const n = require(${JSON.stringify(addonPath)});
const K = 512, N = 512;
const x = new Float32Array(K).fill(1), y = new Float32Array(N);
const A = new Float32Array(K * N), B = new Float32Array(K * N);
const gemv = (w) => n.gemm("float32", 1, N, K, 1, x, 0, [0, K, 1], w, 0, [0, N, 1], y, 0, [0, N, 1], 1, 0);
let read = 0;
for (let tries = 0; tries < 50 && read === 0; tries++) {
  gemv(A); gemv(B);
  const before = n.poolStats().prefetchedBytes;
  gemv(A);
  const t0 = Date.now(); while (Date.now() - t0 < 2) {}
  read = n.poolStats().prefetchedBytes - before;
}
console.log(read);`;
    const run = (flag: string) =>
      Number(
        execFileSync(process.execPath, ["-e", script], {
          env: { ...process.env, HEARTH_NUM_THREADS: "2", HEARTH_PREFETCH_NEXT: flag },
          encoding: "utf8",
        }).trim(),
      );
    const read = run("1");
    // At most both matrices: a worker descheduled under load can still be reading A (announced
    // after B's product, before \`before\` was taken) when the hint for B arrives.
    assert.ok(read > 0 && read <= 2 * 512 * 512 * 4, String(read));
    assert.equal(run("0"), 0);
  });

  test("a worker terminated while its native calls throw ends cleanly, not by std::terminate", () => {
    // Each worker throws argument errors from the addon in a loop until it is terminated: an
    // error raised as its environment shuts down cannot reach JavaScript and must be dropped.
    const script = `const { Worker } = require("node:worker_threads");
const code = 'const n = require(' + ${JSON.stringify(JSON.stringify(addonPath))} + '); require("node:worker_threads").parentPort.postMessage(0); for (;;) { try { n.gemm("float32"); } catch {} }';
(async () => {
  for (let i = 0; i < 30; i++) {
    const w = new Worker(code, { eval: true });
    await new Promise((r) => w.once("message", r));
    await new Promise((r) => setTimeout(r, i % 3));
    await w.terminate();
  }
  console.log("done");
})();`;
    const r = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "done");
  });

  test("loading runs no AVX code: what runs before the kernel choice stays on the x86-64 baseline", (t) => {
    // The kernel families are compiled with their own target pragmas. A table in one of them built
    // by a function call instead of as a constant runs at load time, so a CPU without that ISA dies
    // of an illegal instruction before any feature check (seen on an AVX2-only AMD EPYC). The
    // addon's static initialisers, and everything they call inside it, must use no VEX or EVEX
    // instruction.
    if (process.arch !== "x64") return t.skip("checks x86-64 code");
    const dump = spawnSync("objdump", ["-d", "--no-show-raw-insn", addonPath], {
      encoding: "utf8",
      maxBuffer: 1 << 30,
    });
    if (dump.error || dump.status !== 0) return t.skip("objdump (binutils) is not installed");
    const bodies = new Map<string, string[]>();
    let body: string[] = [];
    for (const line of dump.stdout.split("\n")) {
      const start = /^[0-9a-f]+ <(.+)>:$/.exec(line);
      if (start) {
        body = [];
        bodies.set(start[1] as string, body);
      } else if (line.includes(":\t")) body.push(line);
    }
    const roots = [...bodies.keys()].filter((name) => name.startsWith("_GLOBAL__sub_I_"));
    assert.ok(roots.length > 0, "the addon has static initialisers");
    const seen = new Set(roots);
    const queue = [...roots];
    const vector: string[] = [];
    for (let name = queue.pop(); name !== undefined; name = queue.pop()) {
      for (const line of bodies.get(name) ?? []) {
        const insn = line.split("\t")[1]?.trim() ?? "";
        if (/^v[a-z]/.test(insn) || /%[yz]mm|%k[0-7]/.test(insn)) vector.push(`${name}: ${insn}`);
        const callee = /^(?:call|jmp)\s+[0-9a-f]+ <([^>+@]+)>/.exec(insn)?.[1];
        if (callee && bodies.has(callee) && !seen.has(callee)) {
          seen.add(callee);
          queue.push(callee);
        }
      }
    }
    assert.deepEqual(vector, [], `vector instructions reached from ${roots.length} static initialisers`);
  });

  test("cpuFeatures reports booleans", () => {
    assert.ok(native);
    const f = native.cpuFeatures();
    for (const key of ["avx2", "fma", "f16c", "avx512f", "avx512bf16"] as const) assert.equal(typeof f[key], "boolean");
  });

  test("streamRead (the bandwidth probe) reads every byte it is given, on the pool and off it", () => {
    assert.ok(native);
    // Its checksum: the wrapping sum of the 64-bit words of every whole 64-byte line of each
    // 1 MiB run, plus the bytes of the run's tail, kept to 53 bits.
    const reference = (bytes: Uint8Array, n: number) => {
      let sum = 0n;
      const words = new DataView(bytes.buffer, bytes.byteOffset);
      for (let run = 0; run < n; run += 1 << 20) {
        const end = Math.min(n, run + (1 << 20));
        let i = run;
        for (; i + 64 <= end; i += 64) for (let w = 0; w < 64; w += 8) sum += words.getBigUint64(i + w, true);
        for (; i < end; i++) sum += BigInt(bytes[i] as number);
      }
      return Number(sum & ((1n << 53n) - 1n));
    };
    const bytes = new Uint8Array(allocateAligned((3 << 20) + 100));
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    for (const n of [0, 63, 1000, (1 << 20) + 7, bytes.length]) {
      assert.equal(native.streamRead(bytes, n), reference(bytes, n), `${n} bytes`);
    }
    assert.throws(() => native?.streamRead(bytes, bytes.length + 1), { code: "HEARTH_TENSOR_ARGUMENT" });
  });
});
