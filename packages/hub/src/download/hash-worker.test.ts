import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readlinkSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { nativeHashAvailable, startHashThread } from "./hash-thread.ts";

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

for (const kind of ["worker", "native"] as const) {
  const skip =
    kind === "native" &&
    !nativeHashAvailable() &&
    "the native hash thread is not built (npm install builds it on Linux)";
  test(`hash thread (${kind}): hashes the file as it is written, in pieces of any size, with pauses (the thread sleeps and is woken)`, {
    skip,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-hash-worker-"));
    try {
      const file = join(dir, "x.incomplete");
      const data = randomBytes(13 << 20); // several wake-ups' worth (4 MiB) and a tail below one
      const fd = openSync(file, "a+");
      const worker = startHashThread(file, 0, kind);
      let at = 0;
      let k = 0;
      while (at < data.length) {
        const n = Math.min(data.length - at, k++ % 2 ? 300_001 : 1 << 20);
        writeSync(fd, data.subarray(at, at + n));
        worker.wrote(n);
        at += n;
        // Let the worker catch up and fall asleep now and then, so the wake-up path runs.
        if (k % 5 === 0) await sleep(20);
      }
      closeSync(fd);
      assert.ok(Number.isNaN(worker.cpuMs), "no CPU figure before the digest");
      assert.equal(await worker.finish(), sha256(data));
      // The thread's own CPU time comes with the digest where /proc has it: hashing 13 MiB is not free.
      if (existsSync("/proc/thread-self/stat")) assert.ok(worker.cpuMs > 0, `cpuMs ${worker.cpuMs}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`hash thread (${kind}): a resumed download's prefix is hashed with the rest; a file shorter than what was written is an error`, {
    skip,
  }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "hearth-hash-worker-"));
    try {
      const prefix = randomBytes(3_000_001);
      const rest = randomBytes(2_000_000);
      const file = join(dir, "x.incomplete");
      writeFileSync(file, Buffer.concat([prefix, rest]));
      const worker = startHashThread(file, prefix.length, kind);
      worker.wrote(rest.length);
      assert.equal(await worker.finish(), sha256(prefix, rest));
      // More bytes announced than the file holds (it was cut under us): an error, not a wrong digest.
      const short = startHashThread(file, prefix.length + rest.length + 10, kind);
      await assert.rejects(short.finish(), /shorter than the bytes written/);
      // abort() ends the worker without a digest, and its file is closed: no descriptor of this
      // process still points at it (other descriptors may come and go meanwhile).
      const openOnFile = () =>
        existsSync("/proc/self/fd")
          ? readdirSync("/proc/self/fd").filter((fd) => {
              try {
                return readlinkSync(join("/proc/self/fd", fd)) === file;
              } catch {
                return false; // closed between the listing and the readlink
              }
            }).length
          : 0;
      for (let i = 0; i < 4; i++) {
        const aborted = startHashThread(file, prefix.length, kind);
        await sleep(i * 30); // before and after the worker has opened the file
        await aborted.abort();
        assert.equal(openOnFile(), 0, `abort #${i} left the file open`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
