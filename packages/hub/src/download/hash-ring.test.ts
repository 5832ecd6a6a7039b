import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { HashRing } from "./hash-ring.ts";

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

test("HashRing: reads landing in the ring and copied pieces hash in order; a full ring holds the writer", async () => {
  const data = randomBytes(12 << 20); // more than the 2 MiB ring: it has to wrap and fill
  const ring = new HashRing("", 0);
  // A piece larger than the whole ring cannot go in at once: the writer is always held.
  const first = ring.push(data.subarray(0, 5 << 20));
  assert.ok(first instanceof Promise, "a 5 MiB piece must wait for room in the 2 MiB ring");
  await first;
  let at = 5 << 20;
  let k = 0;
  while (at < data.length) {
    // Alternate: a read that lands where buffer() says (zero-copy), and an odd-sized foreign chunk.
    let chunk: Uint8Array;
    if (k++ % 3 === 2) {
      chunk = data.subarray(at, Math.min(data.length, at + 300_001));
    } else {
      const room = ring.buffer();
      const n = Math.min(room.byteLength, data.length - at, 700_000);
      room.set(data.subarray(at, at + n));
      chunk = room.subarray(0, n);
    }
    at += chunk.byteLength;
    await ring.push(chunk);
  }
  assert.equal(await ring.finish(), sha256(data));
});

test("HashRing: a resumed download's prefix on disk is hashed before the ring", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hearth-hash-ring-"));
  try {
    const prefix = randomBytes(3_000_001);
    const rest = randomBytes(2_000_000);
    const file = join(dir, "x.incomplete");
    writeFileSync(file, prefix);
    const ring = new HashRing(file, prefix.length);
    await ring.push(rest);
    assert.equal(await ring.finish(), sha256(prefix, rest));
    // A prefix longer than the file is an error, not a wrong digest.
    const short = new HashRing(file, prefix.length + 10);
    await assert.rejects(short.finish(), /shorter than its resumed prefix/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
