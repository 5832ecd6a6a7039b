/**
 * In-memory model of a hub for tests and benchmarks: repos with branches, tags and commits;
 * regular blobs in memory; LFS objects as files in `lfsDir` (so a 1 GB object never sits in
 * memory). Commit ids are 40-hex, regular oids are real git blob sha1s, LFS pointers are the
 * exact git-lfs pointer text.
 */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export type RepoType = "model" | "dataset" | "space";

export type FileEntry =
  | { kind: "regular"; data: Buffer; oid: string }
  | { kind: "lfs"; sha256: string; size: number; pointer: Buffer; oid: string };

export interface Commit {
  id: string;
  parent?: string;
  title: string;
  message: string;
  date: string;
  author: string;
  files: Map<string, FileEntry>;
}

export interface Repo {
  type: RepoType;
  name: string;
  private: boolean;
  createdAt: string;
  branches: Map<string, string>;
  tags: Map<string, string>;
  commits: Map<string, Commit>;
}

export interface User {
  name: string;
  role: "read" | "write";
  orgs: string[];
  tokenName: string;
}

export const DEFAULT_GITATTRIBUTES = `${[
  "*.7z",
  "*.arrow",
  "*.bin",
  "*.bz2",
  "*.ckpt",
  "*.ftz",
  "*.gz",
  "*.h5",
  "*.joblib",
  "*.lfs.*",
  "*.mlmodel",
  "*.model",
  "*.msgpack",
  "*.npy",
  "*.npz",
  "*.onnx",
  "*.ot",
  "*.parquet",
  "*.pb",
  "*.pickle",
  "*.pkl",
  "*.pt",
  "*.pth",
  "*.rar",
  "*.safetensors",
  "*.tar.*",
  "*.tar",
  "*.tflite",
  "*.tgz",
  "*.wasm",
  "*.xz",
  "*.zip",
  "*.zst",
  "*tfevents*",
]
  .map((p) => `${p} filter=lfs diff=lfs merge=lfs -text`)
  .join("\n")}\n`;

export function gitBlobOid(data: Buffer): string {
  return createHash("sha1").update(`blob ${data.length}\0`).update(data).digest("hex");
}

export function regular(data: Buffer): FileEntry {
  return { kind: "regular", data, oid: gitBlobOid(data) };
}

export function lfsEntry(sha256: string, size: number): FileEntry {
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${size}\n`);
  return { kind: "lfs", sha256, size, pointer, oid: gitBlobOid(pointer) };
}

/** Patterns of `.gitattributes` lines that say `filter=lfs`. */
export function lfsPatterns(gitattributes: string): string[] {
  return gitattributes
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 1 && f.includes("filter=lfs"))
    .map((f) => f[0]);
}

/** gitattributes-style match: a pattern without `/` matches the basename. */
export function gitattrMatch(path: string, pattern: string): boolean {
  const target = pattern.includes("/") ? path : (path.split("/").pop() ?? path);
  const re = new RegExp(
    `^${pattern
      .split("**/")
      .map((part) =>
        part
          .replace(/[.+^${}()|\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]"),
      )
      .join("(?:.*/)?")}$`,
  );
  return re.test(target);
}

export class HubState {
  readonly users = new Map<string, User>();
  readonly repos = new Map<string, Repo>();
  private counter = 0;

  constructor(readonly lfsDir: string) {}

  key(type: RepoType, name: string): string {
    return `${type}:${name}`;
  }

  lfsPath(sha256: string): string {
    return join(this.lfsDir, sha256);
  }

  hasLfs(sha256: string): boolean {
    return existsSync(this.lfsPath(sha256));
  }

  lfsSize(sha256: string): number {
    return statSync(this.lfsPath(sha256)).size;
  }

  createRepo(type: RepoType, name: string, isPrivate: boolean, author: string, initialCommit?: string): Repo {
    const repo: Repo = {
      type,
      name,
      private: isPrivate,
      createdAt: new Date().toISOString(),
      branches: new Map(),
      tags: new Map(),
      commits: new Map(),
    };
    this.repos.set(this.key(type, name), repo);
    const files = new Map<string, FileEntry>([[".gitattributes", regular(Buffer.from(DEFAULT_GITATTRIBUTES))]]);
    this.addCommit(repo, "main", { title: "initial commit", message: "", author, files, id: initialCommit });
    return repo;
  }

  addCommit(
    repo: Repo,
    branch: string,
    c: { title: string; message: string; author: string; files: Map<string, FileEntry>; id?: string },
  ): Commit {
    const parent = repo.branches.get(branch);
    const date = new Date().toISOString();
    const id =
      c.id ??
      createHash("sha1")
        .update(`${parent ?? ""}\n${c.title}\n${date}\n${this.counter++}\n`)
        .update([...c.files].map(([p, f]) => `${p}:${f.oid}`).join("\n"))
        .digest("hex");
    const commit: Commit = { id, parent, title: c.title, message: c.message, date, author: c.author, files: c.files };
    repo.commits.set(id, commit);
    repo.branches.set(branch, id);
    return commit;
  }

  /** branch, tag, `HEAD`, or a full commit id -> commit. */
  resolve(repo: Repo, rev: string): Commit | undefined {
    const id = rev === "HEAD" ? repo.branches.get("main") : (repo.branches.get(rev) ?? repo.tags.get(rev) ?? rev);
    return id ? repo.commits.get(id) : undefined;
  }

  isLfsPath(commit: Commit | undefined, path: string): boolean {
    const ga = commit?.files.get(".gitattributes");
    if (ga?.kind !== "regular") return false;
    return lfsPatterns(ga.data.toString()).some((p) => gitattrMatch(path, p));
  }
}
