/**
 * The body of a file download (LFS objects through resolve and the LFS download URL): bytes
 * [start, end] of a local file written to the response with reads on the thread pool (the event
 * loop never waits on a disk) into at most four reused buffers of up to 1 MiB, each queued on
 * the socket until the kernel has taken it and then read into again.
 *
 * Why not `reply.send(fs.createReadStream(...))`: every chunk of a read stream is freshly
 * allocated memory (page faults and zeroing on each) handed through the stream machinery, in
 * 64 KiB pieces by default. Measured on the 2-core bench machine with curl as the client (1 GiB
 * from the page cache, server CPU seconds per GiB): read stream 64 KiB 0.70-0.80, read stream
 * 1 MiB 0.52-0.56, this 0.31-0.36. That CPU is taken from every client of the hub.
 *
 * Where the sendfile addon was built (native/sendfile.c, Linux) and the connection is plain TCP,
 * the body goes out with sendfile(2) instead: no copy at all in the server, the kernel hands the
 * page-cache pages to the socket. perf put the two copies above at ~70% of the server's CPU.
 * `HEARTH_HUBSERVER_SENDFILE=0` turns it off.
 */
import { close, open, read } from "node:fs";
import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { TLSSocket } from "node:tls";
import type { FastifyReply } from "fastify";
import type { BlobStore } from "./blob-store.ts";

/** native/sendfile.c; see there. `end` is exclusive; the callback gets (errno or 0, bytes sent). */
interface SendfileAddon {
  start(
    socketFd: number,
    fileFd: number,
    start: number,
    end: number,
    done: (errno: number, sent: number) => void,
  ): object;
  cancel(handle: object): void;
}

let addon: SendfileAddon | null | undefined;

/** The sendfile addon when it was built and is not turned off, else undefined. */
function sendfileAddon(): SendfileAddon | undefined {
  if (process.env.HEARTH_HUBSERVER_SENDFILE === "0" || process.platform !== "linux") return undefined;
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)("../../build/Release/hearth_hub_server_native.node") as SendfileAddon;
    } catch {
      addon = null; // not built (no compiler at install time): the buffered path
    }
  }
  return addon ?? undefined;
}

/** Whether file bodies go out through sendfile(2) (for logs and tests). */
export function zeroCopyAvailable(): boolean {
  return sendfileAddon() !== undefined;
}

const CHUNK = 1 << 20;
const POOL = 4;

/** Opens `path` for reading (rejects when it cannot be opened, e.g. removed meanwhile). */
function openRead(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, "r", (err, fd) => (err ? reject(err) : resolve(fd))));
}

/**
 * Sends bytes [start, end] (inclusive) of `path` as the body of `reply`, with the status and
 * headers already set on it (Content-Length among them). The reply is taken over from fastify
 * (`hijack`) once the file is open, so a file that cannot be opened still becomes a normal error
 * answer. Resolves when the body is sent or the client went away.
 */
export async function sendFileRange(reply: FastifyReply, path: string, start: number, end: number): Promise<void> {
  const fd = await openRead(path);
  reply.hijack();
  const res = reply.raw;
  res.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  const native = reply.request.method === "GET" && end >= start ? sendfileAddon() : undefined;
  const socketFd = native ? plainSocketFd(res) : -1;
  if (native && socketFd >= 0) {
    // The head must be in the kernel before the body bytes that bypass node's stream.
    res.flushHeaders();
    const handle = (res.socket as unknown as { _handle?: { writeQueueSize?: number } })._handle;
    if (res.socket?.writableLength === 0 && handle?.writeQueueSize === 0) {
      if (await sendfileBody(native, res, socketFd, fd, start, end)) return;
    }
  }
  await pump(res, fd, start, end);
}

/** The descriptor of a plain TCP connection (not TLS), or -1. */
function plainSocketFd(res: ServerResponse): number {
  const socket = res.socket;
  if (!socket || socket instanceof TLSSocket || socket.destroyed) return -1;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === "number" ? fd : -1;
}

/**
 * Sends [start, end] of `fd` with the addon, then ends `res`, and closes `fd`. False (nothing
 * sent, `fd` still open) when the addon could not start.
 */
function sendfileBody(
  native: SendfileAddon,
  res: ServerResponse,
  socketFd: number,
  fd: number,
  start: number,
  end: number,
): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let done = false;
    let handle: object;
    // Before the body is out, 'close' means the client went away.
    const onClose = () => {
      if (!done) native.cancel(handle);
    };
    try {
      handle = native.start(socketFd, fd, start, end + 1, (errno, sent) => {
        done = true;
        res.off("close", onClose);
        close(fd, () => {});
        if (errno === 0) res.end();
        else res.destroy(new Error(`sendfile stopped after ${sent} of ${end + 1 - start} bytes (errno ${errno})`));
        resolve(true);
      });
    } catch {
      resolve(false);
      return;
    }
    res.once("close", onClose);
  });
}

/**
 * Sends LFS object `oid` (the whole object of `size` bytes, or `range`) as the body of `reply`:
 * from its local file when the store has one, else from the store's stream.
 */
export async function sendBlob(
  reply: FastifyReply,
  blobs: BlobStore,
  oid: string,
  size: number,
  range: { start: number; end: number } | undefined,
): Promise<FastifyReply> {
  const path = blobs.localPath?.(oid);
  if (!path) return reply.send(blobs.read(oid, range));
  await sendFileRange(reply, path, range ? range.start : 0, range ? range.end : size - 1);
  return reply;
}

/** Writes [start, end] of the open `fd` to `res` and ends it; closes `fd` in every case. */
function pump(res: ServerResponse, fd: number, start: number, end: number): Promise<void> {
  return new Promise<void>((resolve) => {
    // Buffers are made as needed, each no larger than what is left to send (a small file
    // gets one small buffer), up to POOL of them.
    const pool: Buffer[] = [];
    let made = 0;
    let pos = start;
    let reading = false;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      close(fd, () => {});
      if (err) res.destroy(err);
      resolve();
    };
    // The client went away, or the body is out: either way nothing more is read.
    res.once("close", () => finish());
    const next = () => {
      if (done || reading) return;
      if (pos > end) {
        res.end();
        return finish();
      }
      let buf = pool.pop();
      if (!buf && made < POOL) {
        buf = Buffer.allocUnsafe(Math.min(CHUNK, end + 1 - pos));
        made++;
      }
      if (!buf) return; // all four queued on the socket: the next write callback reads on
      reading = true;
      read(fd, buf, 0, Math.min(buf.length, end + 1 - pos), pos, (err, n) => {
        reading = false;
        if (done) return;
        if (err || n === 0) return finish(err ?? new Error(`file ended at byte ${pos}, before ${end + 1}`));
        pos += n;
        // Reads run one at a time, so the writes keep the file's order.
        res.write(buf.subarray(0, n), (werr) => {
          pool.push(buf);
          if (werr) finish(werr);
          else next();
        });
        next();
      });
    };
    next();
  });
}
