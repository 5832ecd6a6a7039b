/**
 * LFS uploads through the batch API (hub-api.md §6.3): batch calls for the objects, then for
 * each object a `basic` PUT or a `multipart` series of part PUTs plus a completion POST, then
 * the optional verify. Upload URLs authorise themselves: no hub token is sent to them.
 */
import { isOffline } from "../config.ts";
import { HubError } from "../errors.ts";
import type { ApiLfsAction, ApiLfsBatchResponse } from "../types/api/index.ts";
import type { ProgressListener } from "../types/public.ts";
import { type HubContext, hubFetch } from "../utils/http.ts";
import { nodePut } from "../utils/node-http.ts";
import { mapPool } from "../utils/pool.ts";
import { socketHttpSupports, socketPut } from "../utils/socket-http.ts";
import { timed } from "../utils/timing.ts";
import type { UploadSource } from "./source.ts";

export interface LfsObject {
  path: string;
  oid: string;
  source: UploadSource;
}

const LFS_HEADERS = { accept: "application/vnd.git-lfs+json", "content-type": "application/vnd.git-lfs+json" };

export interface LfsUploadOptions {
  /** PUTs at once (default 4). */
  concurrency?: number;
  onProgress?: ProgressListener;
}

/**
 * Uploads LFS objects as they become known: {@link LfsUploader.add} an object once its oid is
 * computed, and the uploader asks the batch API about everything added since its last batch
 * call (at most 256 objects per call, one call in flight) and PUTs what the hub wants, with
 * `concurrency` PUTs at once. So while the caller hashes file N+1, file N is already on the
 * wire. {@link LfsUploader.done} waits for everything and throws the first failure.
 */
export class LfsUploader {
  private readonly waiting: LfsObject[] = [];
  private batching = false;
  private running = 0;
  private readonly queue: Array<() => Promise<void>> = [];
  private failure: unknown;
  private idle?: () => void;

  constructor(
    private readonly ctx: HubContext,
    private readonly batchUrl: string,
    private readonly revision: string,
    private readonly opts: LfsUploadOptions = {},
  ) {}

  add(obj: LfsObject): void {
    if (this.failure !== undefined) return;
    this.waiting.push(obj);
    this.pump();
  }

  async done(): Promise<void> {
    if (!this.busy()) {
      if (this.failure !== undefined) throw this.failure;
      return;
    }
    await new Promise<void>((resolve) => {
      this.idle = resolve;
    });
    if (this.failure !== undefined) throw this.failure;
  }

  private busy(): boolean {
    return this.batching || this.running > 0 || this.waiting.length > 0 || this.queue.length > 0;
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.waiting.length = 0;
    this.queue.length = 0;
  }

  private settle(): void {
    if (!this.busy() && this.idle) {
      const idle = this.idle;
      this.idle = undefined;
      idle();
    }
  }

  private pump(): void {
    while (this.failure === undefined && this.running < (this.opts.concurrency ?? 4) && this.queue.length > 0) {
      const job = this.queue.shift() as () => Promise<void>;
      this.running++;
      job()
        .catch((err) => this.fail(err))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
    if (this.failure === undefined && !this.batching && this.waiting.length > 0) {
      const chunk = this.waiting.splice(0, 256);
      this.batching = true;
      timed("lfs-batch", () => this.batch(chunk))
        .then((todo) => {
          // A PUT may have failed while this batch call was in flight: queue nothing more then.
          if (this.failure === undefined) for (const t of todo) this.queue.push(() => this.transfer(t));
        })
        .catch((err) => this.fail(err))
        .finally(() => {
          this.batching = false;
          this.pump();
        });
    }
    this.settle();
  }

  private async batch(chunk: LfsObject[]) {
    const { ctx, batchUrl, opts } = this;
    const byOid = new Map(chunk.map((o) => [o.oid, o]));
    const res = await hubFetch(ctx, batchUrl, {
      method: "POST",
      headers: LFS_HEADERS,
      body: JSON.stringify({
        operation: "upload",
        transfers: ["basic", "multipart"],
        objects: chunk.map((o) => ({ oid: o.oid, size: o.source.size })),
        hash_algo: "sha256",
        ref: { name: this.revision },
      }),
    });
    const batch = (await res.json()) as ApiLfsBatchResponse;
    const todo = [];
    for (const obj of batch.objects ?? []) {
      const mine = byOid.get(obj.oid);
      if (!mine) continue;
      if (obj.error) {
        throw new HubError(
          "HEARTH_HUB_LFS",
          `LFS batch: the hub refused '${mine.path}' (oid ${obj.oid}): ${obj.error.code} ${obj.error.message}`,
          { url: batchUrl, status: obj.error.code },
        );
      }
      if (obj.actions?.upload) todo.push({ mine, upload: obj.actions.upload, verify: obj.actions.verify });
      else opts.onProgress?.({ path: mine.path, loaded: mine.source.size, total: mine.source.size }); // already there
    }
    return todo;
  }

  private async transfer({ mine, upload, verify }: { mine: LfsObject; upload: ApiLfsAction; verify?: ApiLfsAction }) {
    const { ctx, opts } = this;
    const info = { bytes: mine.source.size, path: mine.path };
    if (upload.header?.chunk_size)
      await timed("lfs-put", () => uploadMultipart(ctx, mine, upload, opts.onProgress), info);
    else await timed("lfs-put", () => uploadBasic(ctx, mine, upload, opts.onProgress), info);
    // In-memory bodies are not counted as they go: report completion.
    opts.onProgress?.({ path: mine.path, loaded: mine.source.size, total: mine.source.size });
    if (verify) {
      await timed("lfs-verify", async () => {
        const v = await hubFetch(ctx, verify.href, {
          method: "POST",
          headers: { ...LFS_HEADERS, ...(verify.header ?? {}) },
          body: JSON.stringify({ oid: mine.oid, size: mine.source.size }),
        });
        await v.body?.cancel();
      });
    }
  }
}

/**
 * PUTs bytes [start, end) of the object to a self-authorising URL (no hub token) and returns
 * the answer's headers. A local file goes over a bare socket (socket-http.ts: synchronous 1 MiB
 * reads, ~half the CPU of node:http + a read stream), in-memory bytes over node:http, and
 * everything through the injected fetch when there is one.
 */
async function put(
  ctx: HubContext,
  url: string,
  obj: LfsObject,
  [start, end]: [number, number],
  onBytes: (n: number) => void,
  contentType?: string,
) {
  // Parts go without a Content-Type, as Python sends them (a pre-signed URL may sign it).
  const headers: Record<string, string> = { "content-length": String(end - start) };
  if (contentType) headers["content-type"] = contentType;
  if (ctx.fetch === globalThis.fetch) {
    if (isOffline())
      throw new HubError("HEARTH_HUB_OFFLINE", `PUT ${url}: HF_HUB_OFFLINE is set, so Hearth makes no network calls`, {
        url,
      });
    const filePath = obj.source.filePath;
    if (filePath && socketHttpSupports(url))
      return socketPut(url, headers, { path: filePath, start, end }, ctx.signal, onBytes);
    const stream = obj.source.stream(start, end);
    stream.on("data", (c: Buffer) => onBytes(c.length));
    return nodePut(url, headers, stream, ctx.signal);
  }
  const res = await hubFetch(ctx, url, {
    method: "PUT",
    auth: false,
    headers,
    body: obj.source.body(start, end, onBytes),
  });
  await res.body?.cancel();
  return res.headers;
}

async function uploadBasic(ctx: HubContext, obj: LfsObject, action: ApiLfsAction, onProgress?: ProgressListener) {
  const size = obj.source.size;
  let sent = 0;
  const count = (n: number) => {
    sent += n;
    onProgress?.({ path: obj.path, loaded: sent, total: size });
  };
  await put(ctx, action.href, obj, [0, size], count, "application/octet-stream");
}

async function uploadMultipart(ctx: HubContext, obj: LfsObject, action: ApiLfsAction, onProgress?: ProgressListener) {
  const header = action.header ?? {};
  const chunkSize = Number(header.chunk_size);
  const size = obj.source.size;
  const count = Math.ceil(size / chunkSize);
  const partUrls = Object.keys(header)
    .filter((k) => /^\d+$/.test(k))
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => header[k]);
  if (!(chunkSize > 0) || partUrls.length !== count) {
    throw new HubError(
      "HEARTH_HUB_LFS",
      `LFS multipart for '${obj.path}': expected ${count} part URLs for chunk_size ${header.chunk_size}, got ${partUrls.length}`,
    );
  }
  let sent = 0;
  const etags = await mapPool(partUrls, 4, async (url, i) => {
    const start = i * chunkSize;
    const end = Math.min(size, start + chunkSize);
    const headers = await put(ctx, url, obj, [start, end], (n) => {
      sent += n;
      onProgress?.({ path: obj.path, loaded: sent, total: size });
    });
    const etag = headers.get("etag");
    if (!etag)
      throw new HubError("HEARTH_HUB_LFS", `LFS multipart for '${obj.path}': part ${i + 1} answered without an ETag`);
    return etag;
  });
  const done = await hubFetch(ctx, action.href, {
    method: "POST",
    auth: false,
    headers: LFS_HEADERS,
    body: JSON.stringify({ oid: obj.oid, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) }),
  });
  await done.body?.cancel();
}
