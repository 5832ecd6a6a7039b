import { HubError } from "../errors.ts";
import type { HubCallOptions } from "../types/public.ts";
import { errorFromResponse, hubContext, hubFetch } from "../utils/http.ts";

export interface FileMetadata {
  /** 40-hex commit the revision resolved to (`X-Repo-Commit`). */
  commitHash: string;
  /** `X-Linked-Etag` else `ETag`, without `W/` and quotes: git sha1 or LFS sha256. */
  etag: string;
  /** Real size: `X-Linked-Size`, else `Content-Length` (ignored on redirects). */
  size: number;
  /** Where to GET the bytes: the `Location` of a redirect, else the URL itself. */
  location: string;
}

export interface GetHfFileMetadataOptions extends HubCallOptions {
  url: string;
}

/** Normalises an ETag as Python does: drop a leading `W/` and the quotes. */
export function normalizeEtag(etag: string | null): string | undefined {
  if (!etag) return undefined;
  return etag.replace(/^W\//, "").replace(/"/g, "");
}

/**
 * HEAD a resolve URL without following absolute redirects (relative ones, e.g. renamed
 * repos, are followed with another HEAD), and read the metadata from the headers as
 * `huggingface_hub.get_hf_file_metadata` does. Missing headers are an error.
 *
 * @example
 * const meta = await getHfFileMetadata({ url: hfHubUrl({ repo: "org/m", path: "config.json" }) });
 */
export async function getHfFileMetadata(opts: GetHfFileMetadataOptions): Promise<FileMetadata> {
  const ctx = hubContext(opts);
  let url = opts.url;
  let res: Response;
  for (let hops = 0; ; hops++) {
    res = await hubFetch(ctx, url, { method: "HEAD", headers: { "accept-encoding": "identity" }, redirect: "manual" });
    const loc = res.headers.get("location");
    const isRedirect = res.status >= 300 && res.status < 400 && loc;
    if (isRedirect && !/^[a-z][a-z0-9+.-]*:\/\//i.test(loc) && hops < 5) {
      url = new URL(loc, url).toString(); // relative: same host, follow with HEAD
      continue;
    }
    if (res.status >= 300 && res.status < 400 && !loc) throw await errorFromResponse(res, "HEAD", url);
    break;
  }
  const h = res.headers;
  const commitHash = h.get("x-repo-commit");
  const etag = normalizeEtag(h.get("x-linked-etag") ?? h.get("etag"));
  const isRedirect = res.status >= 300 && res.status < 400;
  const sizeText = h.get("x-linked-size") ?? (isRedirect ? null : h.get("content-length"));
  const missing = [
    !commitHash && "X-Repo-Commit",
    !etag && "ETag/X-Linked-Etag",
    !sizeText && "X-Linked-Size/Content-Length",
  ].filter(Boolean);
  if (missing.length > 0) {
    throw new HubError(
      "HEARTH_HUB_BAD_RESPONSE",
      `getHfFileMetadata: HEAD ${url} answered ${res.status} without ${missing.join(", ")}; is this a Hugging Face compatible hub?`,
      { status: res.status, url },
    );
  }
  const location = isRedirect ? new URL(h.get("location") as string, url).toString() : url;
  return { commitHash: commitHash as string, etag: etag as string, size: Number(sizeText), location };
}
