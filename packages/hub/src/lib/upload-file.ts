import type { AddContent } from "../commit/source.ts";
import { HubError } from "../errors.ts";
import type { CommitInfo } from "../types/public.ts";
import { type CreateCommitOptions, createCommit } from "./create-commit.ts";

export interface UploadFileOptions extends Omit<CreateCommitOptions, "operations" | "title"> {
  /** A local file path, bytes, or text. A plain string is a local path (as in Python). */
  file: string | Uint8Array | { filePath: string } | { text: string };
  pathInRepo?: string;
  /** Default `Upload <pathInRepo> with hearth`. */
  title?: string;
}

/**
 * Uploads one file in one commit.
 *
 * @example
 * await uploadFile({ repo: "me/model", file: "./model.safetensors" });
 */
export async function uploadFile(opts: UploadFileOptions): Promise<CommitInfo> {
  let content: AddContent;
  let defaultPath: string | undefined;
  if (typeof opts.file === "string") {
    content = { filePath: opts.file };
    defaultPath = opts.file.split(/[\\/]/).pop();
  } else if (opts.file instanceof Uint8Array) content = opts.file;
  else if ("text" in opts.file) content = opts.file.text;
  else {
    content = opts.file;
    defaultPath = opts.file.filePath.split(/[\\/]/).pop();
  }
  const pathInRepo = opts.pathInRepo ?? defaultPath;
  if (!pathInRepo)
    throw new HubError("HEARTH_HUB_INVALID_ARGUMENT", "uploadFile: pathInRepo is required for in-memory content");
  return createCommit({
    ...opts,
    title: opts.title ?? `Upload ${pathInRepo} with hearth`,
    operations: [{ operation: "add", pathInRepo, content }],
  });
}
