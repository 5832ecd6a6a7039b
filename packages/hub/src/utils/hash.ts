import { createHash } from "node:crypto";
import { open } from "node:fs/promises";

/**
 * sha256 hex of a file: 8 MiB reads, the next one in flight while the current piece is
 * hashed (a read stream's 64 KiB chunks cost noticeably more CPU per byte).
 */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const fh = await open(path, "r");
  try {
    const size = 8 << 20;
    let [cur, next] = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    let pending = fh.read(cur, 0, size, null);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const full = cur;
      [cur, next] = [next, cur];
      pending = fh.read(cur, 0, size, null);
      hash.update(full.subarray(0, bytesRead));
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}

export function sha256Bytes(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** git blob id: sha1("blob <size>\0" + content), what the hub calls `oid` for regular files. */
export function gitBlobSha1(data: Uint8Array): string {
  return createHash("sha1").update(`blob ${data.byteLength}\0`).update(data).digest("hex");
}
