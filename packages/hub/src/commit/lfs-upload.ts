/**
 * LFS uploads through the batch API (hub-api.md §6.3): one batch call for all objects, then
 * for each object a `basic` PUT or a `multipart` series of part PUTs plus a completion POST,
 * then the optional verify. Upload URLs authorise themselves: no hub token is sent to them.
 */
import { HubError } from "../errors.ts";
import type { ApiLfsAction, ApiLfsBatchResponse } from "../types/api/index.ts";
import type { ProgressListener } from "../types/public.ts";
import { type HubContext, hubFetch } from "../utils/http.ts";
import { mapPool } from "../utils/pool.ts";
import type { UploadSource } from "./source.ts";

export interface LfsObject {
  path: string;
  oid: string;
  source: UploadSource;
}

const LFS_HEADERS = { accept: "application/vnd.git-lfs+json", "content-type": "application/vnd.git-lfs+json" };

export async function uploadLfsObjects(
  ctx: HubContext,
  batchUrl: string,
  revision: string,
  objects: LfsObject[],
  opts: { concurrency?: number; onProgress?: ProgressListener },
): Promise<void> {
  if (objects.length === 0) return;
  const byOid = new Map(objects.map((o) => [o.oid, o]));
  for (let i = 0; i < objects.length; i += 256) {
    const chunk = objects.slice(i, i + 256);
    const res = await hubFetch(ctx, batchUrl, {
      method: "POST",
      headers: LFS_HEADERS,
      body: JSON.stringify({
        operation: "upload",
        transfers: ["basic", "multipart"],
        objects: chunk.map((o) => ({ oid: o.oid, size: o.source.size })),
        hash_algo: "sha256",
        ref: { name: revision },
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
    await mapPool(todo, opts.concurrency ?? 4, async ({ mine, upload, verify }) => {
      if (upload.header?.chunk_size) await uploadMultipart(ctx, mine, upload, opts.onProgress);
      else await uploadBasic(ctx, mine, upload, opts.onProgress);
      if (verify) {
        const v = await hubFetch(ctx, verify.href, {
          method: "POST",
          headers: { ...LFS_HEADERS, ...(verify.header ?? {}) },
          body: JSON.stringify({ oid: mine.oid, size: mine.source.size }),
        });
        await v.body?.cancel();
      }
    });
  }
}

async function uploadBasic(ctx: HubContext, obj: LfsObject, action: ApiLfsAction, onProgress?: ProgressListener) {
  const size = obj.source.size;
  const res = await hubFetch(ctx, action.href, {
    method: "PUT",
    auth: false,
    headers: { "content-type": "application/octet-stream", "content-length": String(size) },
    body: obj.source.body(0, size),
  });
  await res.body?.cancel();
  onProgress?.({ path: obj.path, loaded: obj.source.size, total: obj.source.size });
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
    const res = await hubFetch(ctx, url, {
      method: "PUT",
      auth: false,
      headers: { "content-length": String(end - start) },
      body: obj.source.body(start, end),
    });
    await res.body?.cancel();
    const etag = res.headers.get("etag");
    if (!etag)
      throw new HubError("HEARTH_HUB_LFS", `LFS multipart for '${obj.path}': part ${i + 1} answered without an ETag`);
    sent += end - start;
    onProgress?.({ path: obj.path, loaded: sent, total: size });
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
