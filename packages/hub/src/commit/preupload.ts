import { HubError } from "../errors.ts";
import type { ApiPreuploadResponse } from "../types/api/index.ts";
import type { HubContext } from "../utils/http.ts";
import { sendJson } from "../utils/http.ts";
import type { UploadSource } from "./source.ts";

export interface PreuploadAnswer {
  uploadMode: "lfs" | "regular";
  shouldIgnore: boolean;
  /** Current remote oid of the path (git sha1 or sha256), when it exists. */
  remoteOid?: string;
}

/**
 * Asks the hub how to send each file (`POST .../preupload/{rev}`, 256 files per request as
 * Python does). Empty files are always regular.
 */
export async function preupload(
  ctx: HubContext,
  apiRepoUrl: string,
  revision: string,
  files: { path: string; source: UploadSource }[],
): Promise<Map<string, PreuploadAnswer>> {
  const out = new Map<string, PreuploadAnswer>();
  for (let i = 0; i < files.length; i += 256) {
    const chunk = files.slice(i, i + 256);
    const payload = {
      files: await Promise.all(
        chunk.map(async (f) => ({
          path: f.path,
          size: f.source.size,
          sample: Buffer.from(await f.source.sample()).toString("base64"),
        })),
      ),
    };
    const { body } = await sendJson<ApiPreuploadResponse>(
      ctx,
      "POST",
      `${apiRepoUrl}/preupload/${encodeURIComponent(revision)}`,
      payload,
    );
    for (const f of body?.files ?? []) {
      if (typeof f.path !== "string" || (f.uploadMode !== "lfs" && f.uploadMode !== "regular")) {
        throw new HubError("HEARTH_HUB_BAD_RESPONSE", `preupload: entry without path/uploadMode: ${JSON.stringify(f)}`);
      }
      out.set(f.path, {
        uploadMode: f.uploadMode,
        shouldIgnore: Boolean(f.shouldIgnore),
        remoteOid: f.oid ?? undefined,
      });
    }
  }
  for (const f of files) {
    if (f.source.size === 0) {
      const a = out.get(f.path);
      out.set(f.path, { shouldIgnore: false, ...a, uploadMode: "regular" });
    }
    if (!out.has(f.path))
      throw new HubError("HEARTH_HUB_BAD_RESPONSE", `preupload: the hub did not answer for '${f.path}'`);
  }
  return out;
}
