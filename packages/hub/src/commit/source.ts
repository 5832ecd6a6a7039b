/** What an addition's bytes come from: memory or a local file (read lazily, never whole). */
import { createReadStream, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { HubError } from "../errors.ts";
import { gitBlobSha1, sha256Bytes, sha256File } from "../utils/hash.ts";

export type AddContent = Uint8Array | string | { filePath: string };

export interface UploadSource {
  size: number;
  /** First 512 bytes, for preupload's `sample`. */
  sample(): Promise<Uint8Array>;
  sha256(): Promise<string>;
  /** Whole content (regular files only, which are small). */
  bytes(): Promise<Uint8Array>;
  /** Bytes [start, end) as a Node stream (for node:http uploads). */
  stream(start: number, end: number): Readable;
  /** Bytes [start, end) as a fetch request body; files are streamed, never read whole. */
  body(start: number, end: number, onBytes?: (n: number) => void): RequestInit["body"];
  describe: string;
  /** The local file the bytes come from (absent for in-memory content). */
  filePath?: string;
}

export function toSource(content: AddContent, what: string): UploadSource {
  if (typeof content === "string" || content instanceof Uint8Array) {
    const data = typeof content === "string" ? new TextEncoder().encode(content) : content;
    let digest: string | undefined;
    return {
      size: data.byteLength,
      describe: `${what} (in memory)`,
      sample: async () => data.subarray(0, 512),
      sha256: async () => {
        digest ??= sha256Bytes(data);
        return digest;
      },
      bytes: async () => data,
      // Typed as ArrayBuffer-backed: fetch's BodyInit (from the DOM lib some dependencies pull in) rejects ArrayBufferLike.
      body: (start, end) => data.subarray(start, end) as Uint8Array<ArrayBuffer>,
      stream: (start, end) => Readable.from([Buffer.from(data.buffer, data.byteOffset + start, end - start)]),
    };
  }
  const file = content.filePath;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error("not a regular file");
    size = st.size;
  } catch (err) {
    throw new HubError(
      "HEARTH_HUB_LOCAL_FILE",
      `${what}: cannot read local file '${file}' (${(err as Error).message})`,
    );
  }
  let digest: Promise<string> | undefined;
  return {
    size,
    describe: file,
    filePath: file,
    sample: async () => {
      const fh = await open(file, "r");
      try {
        const buf = Buffer.alloc(Math.min(512, size));
        await fh.read(buf, 0, buf.length, 0);
        return buf;
      } finally {
        await fh.close();
      }
    },
    sha256: () => {
      digest ??= sha256File(file);
      return digest;
    },
    bytes: async () => {
      const fh = await open(file, "r");
      try {
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    },
    stream: (start, end) =>
      end <= start ? Readable.from([]) : createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }),
    body: (start, end, onBytes) => {
      if (end <= start) return new Uint8Array(0);
      const stream = createReadStream(file, { start, end: end - 1, highWaterMark: 4 << 20 });
      if (!onBytes) return Readable.toWeb(stream) as ReadableStream;
      // Count bytes as fetch pulls them, for the progress bar.
      const counted = new Transform({
        transform(chunk: Buffer, _enc, done) {
          onBytes(chunk.length);
          done(null, chunk);
        },
      });
      stream.on("error", (err) => counted.destroy(err));
      return Readable.toWeb(stream.pipe(counted)) as ReadableStream;
    },
  };
}

/** git blob sha1 of a regular file's bytes (what the hub reports as its `oid`). */
export function gitOid(data: Uint8Array): string {
  return gitBlobSha1(data);
}
