import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

/** sha256 hex of a file, streamed. */
export async function sha256File(path: string, start = 0, end?: number): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { start, end, highWaterMark: 1 << 20 })) hash.update(chunk);
  return hash.digest("hex");
}

export function sha256Bytes(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** git blob id: sha1("blob <size>\0" + content), what the hub calls `oid` for regular files. */
export function gitBlobSha1(data: Uint8Array): string {
  return createHash("sha1").update(`blob ${data.byteLength}\0`).update(data).digest("hex");
}
