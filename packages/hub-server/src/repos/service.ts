/**
 * Repos: where they live on disk, who may see them, and the commit operation that turns
 * API operations into git objects and moves a branch atomically.
 */
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { HubDatabase, RepoRow, RepoType, TokenRole, UserRow } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { writeObject } from "../git/objects.ts";
import { type FileEntry, GitRepo } from "../git/repo.ts";
import { formatPointer } from "../lfs/pointer.ts";
import type { BlobStore } from "../storage/blob-store.ts";
import { cardSummary, parseCard } from "./card.ts";
import { defaultGitattributes, escapePattern, isLfsTracked } from "./gitattributes.ts";
import { checkRepoPath, typePlural } from "./names.ts";

/** Who is calling: a user plus the role of the credential used. */
export interface Caller {
  user: UserRow;
  role: TokenRole;
  via: "token" | "session";
  tokenName: string;
  tokenCreatedAt: string;
}

export interface HubLimits {
  /** Largest regular (non-LFS) file a commit may carry inline. Default 10 MiB. */
  maxRegularFileSize: number;
  /** Files at least this large are answered `uploadMode: "lfs"` by preupload. Default 10 MiB. */
  lfsThreshold: number;
  /** Largest LFS object accepted. Default 50 GiB. */
  maxLfsFileSize: number;
  /** LFS uploads larger than this use multipart when the client offers it. Default 64 MiB. */
  multipartThreshold: number;
  /** Part size for multipart uploads. Default 16 MiB. */
  multipartChunkSize: number;
}

export type CommitOp =
  | { kind: "file"; path: string; content: Buffer; oldPath?: string }
  | { kind: "lfsFile"; path: string; oid: string; size?: number; oldPath?: string }
  | { kind: "deletedFile"; path: string }
  | { kind: "deletedFolder"; path: string }
  | { kind: "copyFile"; path: string; srcPath: string; srcRevision?: string };

export interface CommitHeader {
  summary: string;
  description?: string;
  parentCommit?: string;
}

const locks = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier `withLock(key)` call has settled (per-repo commit queue). */
export async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

export class RepoService {
  /** Called after every commit or push (from refreshMeta) and after a repo is deleted; errors are ignored. */
  readonly listeners: { updated: Array<(r: RepoRow) => Promise<void>>; removed: Array<(r: RepoRow) => Promise<void>> } =
    {
      updated: [],
      removed: [],
    };

  constructor(
    readonly db: HubDatabase,
    readonly blobs: BlobStore,
    readonly dataDir: string,
    readonly limits: HubLimits,
  ) {}

  repoDir(r: { type: RepoType; namespace: string; name: string }): string {
    return join(this.dataDir, "repos", typePlural(r.type), r.namespace, `${r.name}.git`);
  }

  git(r: RepoRow): GitRepo {
    return new GitRepo(this.repoDir(r));
  }

  /** The role the user has on a namespace: "admin" for their own, the org role, or undefined. */
  async namespaceRole(user: UserRow, namespace: string): Promise<"admin" | "write" | "read" | undefined> {
    if (user.isAdmin || user.name.toLowerCase() === namespace.toLowerCase()) return "admin";
    const org = await this.db.getOrgByName(namespace);
    if (!org) return undefined;
    return this.db.getMemberRole(org.id, user.id);
  }

  async canRead(caller: Caller | undefined, r: RepoRow): Promise<boolean> {
    if (!r.private) return true;
    return !!caller && (await this.namespaceRole(caller.user, r.namespace)) !== undefined;
  }

  async canWrite(caller: Caller | undefined, r: RepoRow): Promise<boolean> {
    if (caller?.role !== "write") return false;
    const role = await this.namespaceRole(caller.user, r.namespace);
    return role === "admin" || role === "write";
  }

  private notFound(caller: Caller | undefined, type: RepoType, id: string) {
    // HF answers 401 to anonymous callers and 404 to signed-in ones; both carry RepoNotFound.
    return hubError(
      "HEARTH_HUBSERVER_REPO_NOT_FOUND",
      `Repository Not Found for ${type} '${id}': it does not exist, or it is private and you may not see it`,
      {
        status: caller ? 404 : 401,
      },
    );
  }

  /** The repo when the caller may read it; RepoNotFound otherwise (private looks missing). */
  async getReadable(type: RepoType, namespace: string, name: string, caller: Caller | undefined): Promise<RepoRow> {
    const r = await this.db.getRepo(type, namespace, name);
    if (!r || !(await this.canRead(caller, r))) throw this.notFound(caller, type, `${namespace}/${name}`);
    return r;
  }

  /**
   * Files of a gated repo: "auto" lets any signed-in user through, "manual" only members of the
   * namespace (this hub has no access-request flow). 401/403 with X-Error-Code GatedRepo.
   */
  async checkGate(caller: Caller | undefined, r: RepoRow): Promise<void> {
    if (!r.gated) return;
    const id = `${r.namespace}/${r.name}`;
    if (!caller)
      throw hubError(
        "HEARTH_HUBSERVER_GATED",
        `Access to ${r.type} '${id}' is restricted: you must be authenticated to access it`,
        { status: 401 },
      );
    if (r.gated === "manual" && !(await this.namespaceRole(caller.user, r.namespace))) {
      throw hubError(
        "HEARTH_HUBSERVER_GATED",
        `Access to ${r.type} '${id}' is restricted: '${caller.user.name}' has not been granted access`,
      );
    }
  }

  /** The repo when the caller may write it; 401/403 when visible but not writable. */
  async getWritable(type: RepoType, namespace: string, name: string, caller: Caller | undefined): Promise<RepoRow> {
    const r = await this.getReadable(type, namespace, name, caller);
    if (!caller)
      throw hubError(
        "HEARTH_HUBSERVER_UNAUTHORIZED",
        `${type} '${namespace}/${name}': writing needs a token with the write role`,
      );
    if (!(await this.canWrite(caller, r))) {
      throw hubError(
        "HEARTH_HUBSERVER_FORBIDDEN",
        `${type} '${namespace}/${name}': ${caller.role === "read" ? "this token has the read role; writing needs a write token" : `user '${caller.user.name}' may not write to namespace '${r.namespace}'`}`,
      );
    }
    return r;
  }

  /** Creates the DB row and the bare repo with an initial commit holding `.gitattributes`. */
  async create(
    caller: Caller,
    o: {
      type: RepoType;
      namespace: string;
      name: string;
      private: boolean;
      files?: Array<{ path: string; content: Buffer }>;
      extra?: Record<string, unknown>;
    },
  ): Promise<RepoRow> {
    const role = await this.namespaceRole(caller.user, o.namespace);
    if (caller.role !== "write" || (role !== "admin" && role !== "write")) {
      throw hubError(
        "HEARTH_HUBSERVER_FORBIDDEN",
        `createRepo: '${caller.user.name}' may not create repos in namespace '${o.namespace}'${caller.role === "read" ? " with a read token" : ""}`,
      );
    }
    if (!(await this.db.getUserByName(o.namespace)) && !(await this.db.getOrgByName(o.namespace))) {
      throw hubError(
        "HEARTH_HUBSERVER_NOT_FOUND",
        `createRepo: namespace '${o.namespace}' is neither a user nor an organization`,
      );
    }
    const row = await this.db.createRepo(o);
    try {
      const git = await GitRepo.init(this.repoDir(row), this.limits.maxRegularFileSize);
      const files = new Map<string, { mode: string; oid: string }>();
      files.set(".gitattributes", {
        mode: "100644",
        oid: await writeObject(git.dir, "blob", Buffer.from(defaultGitattributes)),
      });
      for (const f of o.files ?? []) {
        checkRepoPath("createRepo files[].path", f.path);
        files.set(f.path, { mode: "100644", oid: await writeObject(git.dir, "blob", f.content) });
      }
      const commit = await git.writeCommit({
        tree: await git.writeTree(files),
        parents: [],
        author: this.signature(caller),
        message: "initial commit",
      });
      if (!(await git.casRef("refs/heads/main", commit, undefined)))
        throw hubError("HEARTH_HUBSERVER_GIT_FAILED", "createRepo: could not create branch main");
      await this.refreshMeta(row);
    } catch (e) {
      await this.db.deleteRepo(row.id);
      await rm(this.repoDir(row), { recursive: true, force: true });
      throw e;
    }
    return row;
  }

  async remove(r: RepoRow): Promise<void> {
    await withLock(r.id, async () => {
      await this.db.deleteRepo(r.id);
      await rm(this.repoDir(r), { recursive: true, force: true });
    });
    for (const f of this.listeners.removed) await f(r).catch(() => {});
  }

  async move(r: RepoRow, namespace: string, name: string): Promise<void> {
    await withLock(r.id, async () => {
      const to = { ...r, namespace, name };
      await this.db.moveRepo(r.id, namespace, name);
      try {
        await mkdir(dirname(this.repoDir(to)), { recursive: true });
        await rename(this.repoDir(r), this.repoDir(to));
      } catch (e) {
        await this.db.moveRepo(r.id, r.namespace, r.name);
        throw e;
      }
    });
  }

  private signature(caller: Caller) {
    return {
      name: caller.user.fullname || caller.user.name,
      email: caller.user.email ?? `${caller.user.name}@users.noreply.hearth`,
      date: new Date(),
    };
  }

  /**
   * Applies `ops` on top of `branch` and moves it. With `parentCommit`, the branch head must be
   * that commit (412 otherwise). Nothing is visible until the final compare-and-swap of the ref,
   * so a failed commit leaves the repo as it was.
   */
  async commit(r: RepoRow, branch: string, header: CommitHeader, ops: CommitOp[], caller: Caller): Promise<string> {
    const git = this.git(r);
    const ref = `refs/heads/${branch.replace(/^refs\/heads\//, "")}`;
    const commitOid = await withLock(r.id, async () => {
      for (let attempt = 0; ; attempt++) {
        const head = await git.resolve(ref).catch(() => {
          throw hubError(
            "HEARTH_HUBSERVER_REVISION_NOT_FOUND",
            `commit: branch '${branch}' does not exist in ${r.type} '${r.namespace}/${r.name}'`,
          );
        });
        if (header.parentCommit && !head.startsWith(header.parentCommit.toLowerCase())) {
          throw hubError(
            "HEARTH_HUBSERVER_PARENT_MISMATCH",
            `commit: parentCommit ${header.parentCommit} is not the head of '${branch}' (now ${head}); fetch and retry`,
          );
        }
        const files = new Map<string, { mode: string; oid: string }>();
        const snapshot = await git.snapshot(head);
        for (const e of snapshot.values()) if (e.type === "file") files.set(e.path, { mode: e.mode, oid: e.oid });
        await this.applyOps(git, r, files, ops);
        const tree = await git.writeTree(files);
        const message = header.description ? `${header.summary}\n\n${header.description}` : header.summary;
        const oid = await git.writeCommit({ tree, parents: [head], author: this.signature(caller), message });
        if (await git.casRef(ref, oid, head)) return oid;
        // the branch moved underneath us (a git push): retry on the new head unless pinned
        if (header.parentCommit || attempt >= 4) {
          throw hubError(
            "HEARTH_HUBSERVER_PARENT_MISMATCH",
            `commit: branch '${branch}' moved while committing; retry`,
          );
        }
      }
    });
    await this.refreshMeta(r);
    return commitOid;
  }

  private async applyOps(
    git: GitRepo,
    r: RepoRow,
    files: Map<string, { mode: string; oid: string }>,
    ops: CommitOp[],
  ): Promise<void> {
    const attrsOf = async () => {
      const a = files.get(".gitattributes");
      return a ? (await git.readBlob(a.oid)).toString("utf8") : "";
    };
    const newLfsRules: string[] = [];
    for (const op of ops) {
      checkRepoPath(`commit ${op.kind}`, op.path);
      switch (op.kind) {
        case "file": {
          if (op.content.length > this.limits.maxRegularFileSize) {
            throw hubError(
              "HEARTH_HUBSERVER_TOO_LARGE",
              `commit: file '${op.path}' is ${op.content.length} bytes; regular files may be at most ${this.limits.maxRegularFileSize} bytes, upload it through LFS`,
            );
          }
          if (op.oldPath) files.delete(checkRepoPath("commit file.oldPath", op.oldPath));
          files.set(op.path, { mode: "100644", oid: await writeObject(git.dir, "blob", op.content) });
          break;
        }
        case "lfsFile": {
          const stat = await this.blobs.stat(op.oid);
          if (!stat || (op.size !== undefined && stat.size !== op.size)) {
            throw hubError(
              "HEARTH_HUBSERVER_LFS_OBJECT_MISSING",
              `commit: lfsFile '${op.path}' references object ${op.oid}${op.size !== undefined ? ` of ${op.size} bytes` : ""}, which was not uploaded${stat ? ` (stored size ${stat.size})` : ""}`,
            );
          }
          if (op.oldPath) files.delete(checkRepoPath("commit lfsFile.oldPath", op.oldPath));
          files.set(op.path, {
            mode: "100644",
            oid: await writeObject(git.dir, "blob", formatPointer({ oid: op.oid, size: stat.size })),
          });
          if (!isLfsTracked((await attrsOf()) + newLfsRules.join("\n"), op.path))
            newLfsRules.push(`${escapePattern(op.path)} filter=lfs diff=lfs merge=lfs -text`);
          break;
        }
        case "deletedFile": {
          if (!files.delete(op.path)) {
            throw hubError(
              "HEARTH_HUBSERVER_ENTRY_NOT_FOUND",
              `commit: deletedFile '${op.path}': A file with this name doesn't exist in ${r.type} '${r.namespace}/${r.name}'`,
            );
          }
          break;
        }
        case "deletedFolder": {
          const prefix = `${op.path.replace(/\/+$/, "")}/`;
          let n = 0;
          for (const p of [...files.keys()]) if (p.startsWith(prefix) && files.delete(p)) n++;
          if (n === 0)
            throw hubError("HEARTH_HUBSERVER_ENTRY_NOT_FOUND", `commit: deletedFolder '${op.path}': no such folder`);
          break;
        }
        case "copyFile": {
          checkRepoPath("commit copyFile.srcPath", op.srcPath);
          let src: { mode: string; oid: string } | undefined;
          if (op.srcRevision) {
            const snap: Map<string, FileEntry> = await git.snapshot(await git.resolve(op.srcRevision));
            const e = snap.get(op.srcPath);
            if (e?.type === "file") src = { mode: e.mode, oid: e.oid };
          } else src = files.get(op.srcPath);
          if (!src)
            throw hubError(
              "HEARTH_HUBSERVER_ENTRY_NOT_FOUND",
              `commit: copyFile source '${op.srcPath}' does not exist`,
            );
          files.set(op.path, { ...src });
          break;
        }
      }
    }
    if (newLfsRules.length) {
      const attrs = await attrsOf();
      const text = `${attrs}${attrs && !attrs.endsWith("\n") ? "\n" : ""}${newLfsRules.join("\n")}\n`;
      files.set(".gitattributes", { mode: "100644", oid: await writeObject(git.dir, "blob", Buffer.from(text)) });
    }
    // a path may not be both a file and a folder
    for (const p of files.keys()) {
      const parts = p.split("/");
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join("/");
        if (files.has(dir))
          throw hubError("HEARTH_HUBSERVER_BAD_PATH", `commit: '${dir}' would be both a file and the folder of '${p}'`);
      }
    }
  }

  /** Re-reads README.md at main into the DB (tags, pipeline, library) and bumps lastModified. */
  async refreshMeta(r: RepoRow): Promise<void> {
    const git = this.git(r);
    const extra: Record<string, unknown> = { ...r.extra };
    try {
      const head = await git.resolve("main");
      const readme = (await git.snapshot(head)).get("README.md");
      const card =
        readme?.type === "file" && !readme.lfs
          ? parseCard((await git.readBlob(readme.oid)).toString("utf8"))
          : { data: {}, body: "" };
      extra.card = cardSummary(card.data);
    } catch {
      extra.card = { tags: [] };
    }
    await this.db.updateRepo(r.id, { lastModified: new Date().toISOString(), extra });
    for (const f of this.listeners.updated) void f({ ...r, extra }).catch(() => {});
  }

  /** The current id of a path for preupload: git blob sha1, or sha256 for LFS files. */
  static remoteOid(e: FileEntry | undefined): string | undefined {
    if (e?.type !== "file") return undefined;
    return e.lfs ? e.lfs.oid : e.oid;
  }
}
