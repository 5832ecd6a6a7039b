import { readdirSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { HubError } from "../errors.ts";
import type { CommitInfo } from "../types/public.ts";
import { filterPaths } from "../utils/patterns.ts";
import { type CommitOperation, type CreateCommitOptions, createCommit } from "./create-commit.ts";
import { listRepoTree } from "./list-repo-tree.ts";

export interface UploadFolderOptions extends Omit<CreateCommitOptions, "operations" | "title"> {
  folderPath: string;
  /** Folder inside the repo; default the root. */
  pathInRepo?: string;
  allowPatterns?: string | string[];
  ignorePatterns?: string | string[];
  /** Remote files (relative to pathInRepo) matching these are deleted in the same commit. */
  deletePatterns?: string | string[];
  title?: string;
}

// Never uploaded, as in Python: git internals and the local download/upload metadata.
const ALWAYS_IGNORED = [
  ".git",
  ".git/*",
  "*/.git",
  "*/.git/*",
  ".cache/huggingface",
  ".cache/huggingface/*",
  "*/.cache/huggingface/*",
];

/**
 * Uploads a local folder in one commit, filtered by allow/ignore patterns (fnmatch on the
 * path relative to the folder); optionally deletes remote files matching `deletePatterns`.
 *
 * @example
 * await uploadFolder({ repo: "me/model", folderPath: "./out", ignorePatterns: ["*.tmp", "logs/"] });
 */
export async function uploadFolder(opts: UploadFolderOptions): Promise<CommitInfo> {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(opts.folderPath);
  } catch {
    throw new HubError("HEARTH_HUB_LOCAL_FILE", `uploadFolder: folderPath '${opts.folderPath}' does not exist`);
  }
  if (!st.isDirectory())
    throw new HubError("HEARTH_HUB_LOCAL_FILE", `uploadFolder: folderPath '${opts.folderPath}' is not a folder`);
  const prefix = opts.pathInRepo ? `${opts.pathInRepo.replace(/^\/+|\/+$/g, "")}/` : "";
  const local = filterPaths(walk(opts.folderPath), {
    allowPatterns: opts.allowPatterns,
    ignorePatterns: [...ALWAYS_IGNORED, ...(opts.ignorePatterns === undefined ? [] : [opts.ignorePatterns].flat())],
  });
  const operations: CommitOperation[] = local.map((rel) => ({
    operation: "add",
    pathInRepo: `${prefix}${rel}`,
    content: { filePath: join(opts.folderPath, rel) },
  }));
  if (opts.deletePatterns !== undefined) {
    const keep = new Set(local);
    const remote: string[] = [];
    for await (const e of listRepoTree({ ...opts, path: prefix || undefined, recursive: true })) {
      if (e.type === "file") remote.push(e.path.slice(prefix.length));
    }
    for (const rel of filterPaths(remote, { allowPatterns: opts.deletePatterns })) {
      if (!keep.has(rel) && rel !== ".gitattributes")
        operations.push({ operation: "delete", pathInRepo: `${prefix}${rel}` });
    }
  }
  return createCommit({ ...opts, title: opts.title ?? "Upload folder using hearth", operations });
}

function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, d.name);
      if (d.isDirectory()) visit(full);
      else if (d.isFile() || (d.isSymbolicLink() && statSync(full).isFile()))
        out.push(relative(root, full).split(sep).join("/"));
    }
  };
  visit(root);
  return out.sort();
}
