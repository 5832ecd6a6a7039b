/**
 * One bare git repository on disk. Reads go through git (ls-tree, cat-file, log) with
 * per-commit caches (a commit's tree never changes); writes build objects in Node and move
 * the branch with `git update-ref <new> <old>`, a compare-and-swap.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hubError } from "../errors.ts";
import { type LfsPointer, parsePointer } from "../lfs/pointer.ts";
import { runGit } from "./exec.ts";
import { type Signature, serializeCommit, serializeTree, type TreeEntry, writeObject } from "./objects.ts";

export interface FileEntry {
  type: "file" | "directory";
  path: string;
  mode: string;
  oid: string;
  /** Blob size in git (the pointer size for LFS files); 0 for directories. */
  gitSize: number;
  lfs?: LfsPointer;
}

export interface CommitInfo {
  id: string;
  title: string;
  message: string;
  authorName: string;
  authorEmail: string;
  date: string;
}

export interface RefInfo {
  ref: string;
  name: string;
  targetCommit: string;
}

const snapshotCache = new Map<string, Map<string, FileEntry>>();
const SNAPSHOT_CACHE_MAX = 256;

const hex40 = /^[0-9a-f]{40}$/;

/** Shell hook: lists the pushed objects and rejects the push if a blob is over the limit. */
const preReceiveHook = (limit: number) => `#!/bin/sh
# written by @hearth/hub-server: files over ${limit} bytes must be pushed through Git LFS
zero=0000000000000000000000000000000000000000
status=0
while read old new ref; do
  [ "$new" = "$zero" ] && continue
  if [ "$old" = "$zero" ]; then set -- "$new" --not --all; else set -- "$old..$new"; fi
  git rev-list --objects "$@" | git cat-file --batch-check='%(objecttype) %(objectsize) %(rest)' |
    awk -v l=${limit} '$1 == "blob" && $2 > l { print "hearth: " $3 " is " $2 " bytes; files over " l " bytes must go through Git LFS (git lfs track)"; bad = 1 } END { exit bad }' >&2 || status=1
done
exit $status
`;

/** Rejects revision strings git could read as options or ref expressions. */
function checkRevString(rev: string): void {
  if (!rev || rev.startsWith("-") || /[\s~^:?*[\\\0]|\.\.|@\{/.test(rev) || rev.length > 255) {
    throw hubError(
      "HEARTH_HUBSERVER_REVISION_NOT_FOUND",
      `revision '${rev.slice(0, 100)}' is not a valid branch, tag or commit name`,
    );
  }
}

export class GitRepo {
  constructor(readonly dir: string) {}

  /**
   * `git init --bare` with `main` as the default branch and a pre-receive hook that refuses
   * pushes carrying a non-LFS blob larger than `maxBlobSize` (as HF refuses large non-LFS files).
   */
  static async init(dir: string, maxBlobSize: number): Promise<GitRepo> {
    await runGit(["init", "--bare", "--quiet", "--initial-branch=main", dir]);
    await runGit(["config", "core.logAllRefUpdates", "false"], { cwd: dir });
    await runGit(["config", "receive.denyNonFastForwards", "false"], { cwd: dir });
    await writeFile(join(dir, "hooks", "pre-receive"), preReceiveHook(maxBlobSize), { mode: 0o755 });
    return new GitRepo(dir);
  }

  /** Reads a branch head from loose refs or packed-refs without spawning git. */
  private async readBranch(name: string): Promise<string | undefined> {
    try {
      const v = (await readFile(join(this.dir, "refs", "heads", name), "utf8")).trim();
      if (hex40.test(v)) return v;
    } catch {
      // fall through to packed-refs
    }
    try {
      const packed = await readFile(join(this.dir, "packed-refs"), "utf8");
      for (const line of packed.split("\n")) {
        if (line.endsWith(` refs/heads/${name}`)) return line.slice(0, 40);
      }
    } catch {
      // no packed refs
    }
    return undefined;
  }

  /**
   * Resolves a branch, tag, full ref or commit id to a 40-hex commit id. `HEAD` means the default
   * branch. Throws RevisionNotFound when unknown.
   */
  async resolve(rev: string): Promise<string> {
    const r = rev === "HEAD" ? "main" : rev;
    checkRevString(r);
    if (!r.includes("/") || r.startsWith("refs/heads/")) {
      const b = await this.readBranch(r.replace(/^refs\/heads\//, ""));
      if (b) return b;
    }
    const candidates =
      hex40.test(r) || /^[0-9a-f]{7,39}$/.test(r)
        ? [r]
        : r.startsWith("refs/")
          ? [r]
          : [`refs/heads/${r}`, `refs/tags/${r}`];
    for (const c of candidates) {
      const { stdout, code } = await runGit(["rev-parse", "--verify", "--quiet", `${c}^{commit}`], {
        cwd: this.dir,
        okCodes: [1, 128],
      });
      const v = stdout.toString().trim();
      if (code === 0 && hex40.test(v)) return v;
    }
    throw hubError(
      "HEARTH_HUBSERVER_REVISION_NOT_FOUND",
      `Invalid rev id: '${rev}' is not a branch, tag or commit of this repo`,
    );
  }

  /** Flat listing of every file and directory at a commit, LFS pointers parsed. Cached. */
  async snapshot(commit: string): Promise<Map<string, FileEntry>> {
    const cached = snapshotCache.get(commit);
    if (cached) {
      snapshotCache.delete(commit);
      snapshotCache.set(commit, cached);
      return cached;
    }
    const { stdout } = await runGit(["ls-tree", "-r", "-t", "-l", "-z", "--full-tree", commit], { cwd: this.dir });
    const entries = new Map<string, FileEntry>();
    const pointerCandidates: FileEntry[] = [];
    for (const rec of stdout.toString("utf8").split("\0")) {
      if (!rec) continue;
      const tab = rec.indexOf("\t");
      const [mode, type, oid, size] = rec.slice(0, tab).split(/ +/) as [string, string, string, string];
      const path = rec.slice(tab + 1);
      if (type === "tree") entries.set(path, { type: "directory", path, mode, oid, gitSize: 0 });
      else if (type === "blob") {
        const e: FileEntry = { type: "file", path, mode, oid, gitSize: Number(size) };
        entries.set(path, e);
        if (e.gitSize >= 100 && e.gitSize <= 200) pointerCandidates.push(e);
      }
    }
    if (pointerCandidates.length) {
      const input = `${pointerCandidates.map((e) => e.oid).join("\n")}\n`;
      const { stdout: batch } = await runGit(["cat-file", "--batch"], { cwd: this.dir, input });
      let pos = 0;
      for (const e of pointerCandidates) {
        const nl = batch.indexOf(10, pos);
        const size = Number(batch.subarray(pos, nl).toString().split(" ")[2]);
        const body = batch.subarray(nl + 1, nl + 1 + size);
        pos = nl + 1 + size + 1;
        const p = parsePointer(body);
        if (p) e.lfs = p;
      }
    }
    snapshotCache.set(commit, entries);
    if (snapshotCache.size > SNAPSHOT_CACHE_MAX) snapshotCache.delete(snapshotCache.keys().next().value as string);
    return entries;
  }

  /** Raw blob bytes. */
  async readBlob(oid: string): Promise<Buffer> {
    return (await runGit(["cat-file", "blob", oid], { cwd: this.dir })).stdout;
  }

  /** Builds the nested trees for a flat `path -> {mode, oid}` map; returns the root tree id. */
  async writeTree(files: Map<string, { mode: string; oid: string }>): Promise<string> {
    interface Dir {
      files: TreeEntry[];
      dirs: Map<string, Dir>;
    }
    const root: Dir = { files: [], dirs: new Map() };
    for (const [path, f] of files) {
      const parts = path.split("/");
      let d = root;
      for (const p of parts.slice(0, -1)) {
        let next = d.dirs.get(p);
        if (!next) {
          next = { files: [], dirs: new Map() };
          d.dirs.set(p, next);
        }
        d = next;
      }
      d.files.push({ mode: f.mode, name: parts[parts.length - 1] as string, oid: f.oid });
    }
    const write = async (d: Dir): Promise<string> => {
      const entries = [...d.files];
      for (const [name, sub] of d.dirs) entries.push({ mode: "40000", name, oid: await write(sub) });
      return writeObject(this.dir, "tree", serializeTree(entries));
    };
    return write(root);
  }

  /** Writes a commit object; does not move any ref. */
  async writeCommit(c: { tree: string; parents: string[]; author: Signature; message: string }): Promise<string> {
    return writeObject(this.dir, "commit", serializeCommit(c));
  }

  /**
   * Moves `ref` from `oldOid` (undefined: must not exist) to `newOid` atomically.
   * Returns false when the ref no longer has the expected value.
   */
  async casRef(ref: string, newOid: string, oldOid: string | undefined): Promise<boolean> {
    const { code } = await runGit(["update-ref", ref, newOid, oldOid ?? "0".repeat(40)], {
      cwd: this.dir,
      okCodes: [1, 128],
    });
    return code === 0;
  }

  async deleteRef(ref: string): Promise<boolean> {
    const { code } = await runGit(["update-ref", "-d", ref], { cwd: this.dir, okCodes: [1, 128] });
    return code === 0;
  }

  /** All branches, tags (peeled to commits) and refs/convert/* refs. */
  async refs(): Promise<{ branches: RefInfo[]; tags: RefInfo[]; converts: RefInfo[]; pullRequests: RefInfo[] }> {
    const { stdout } = await runGit(["for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)"], {
      cwd: this.dir,
    });
    const out = {
      branches: [] as RefInfo[],
      tags: [] as RefInfo[],
      converts: [] as RefInfo[],
      pullRequests: [] as RefInfo[],
    };
    for (const line of stdout.toString().split("\n")) {
      if (!line) continue;
      const [ref, oid, peeled] = line.split("\0") as [string, string, string];
      const target = peeled || oid;
      if (ref.startsWith("refs/heads/")) out.branches.push({ ref, name: ref.slice(11), targetCommit: target });
      else if (ref.startsWith("refs/tags/")) out.tags.push({ ref, name: ref.slice(10), targetCommit: target });
      else if (ref.startsWith("refs/convert/")) out.converts.push({ ref, name: ref.slice(13), targetCommit: target });
      else if (ref.startsWith("refs/pr/")) out.pullRequests.push({ ref, name: ref.slice(8), targetCommit: target });
    }
    return out;
  }

  /** Commits reachable from `commit`, newest first. */
  async log(commit: string, skip: number, limit: number, path?: string): Promise<CommitInfo[]> {
    const args = [
      "log",
      "--format=%H%x00%an%x00%ae%x00%aI%x00%B%x1e",
      `--skip=${skip}`,
      `--max-count=${limit}`,
      commit,
    ];
    if (path) args.push("--", path);
    const { stdout } = await runGit(args, { cwd: this.dir });
    return stdout
      .toString("utf8")
      .split("\x1e")
      .map((s) => s.replace(/^\n/, ""))
      .filter((s) => s.length > 0)
      .map((rec) => {
        const [id, authorName, authorEmail, date, body] = rec.split("\0") as [string, string, string, string, string];
        const message = body.replace(/\n+$/, "");
        return {
          id,
          authorName,
          authorEmail,
          date: new Date(date).toISOString(),
          title: message.split("\n")[0] ?? "",
          message,
        };
      });
  }

  async countCommits(commit: string): Promise<number> {
    return Number((await runGit(["rev-list", "--count", commit], { cwd: this.dir })).stdout.toString().trim());
  }

  /** Last commit that touched `path` (for tree expand / file pages). */
  async lastCommitOf(commit: string, path: string): Promise<CommitInfo | undefined> {
    return (await this.log(commit, 0, 1, path))[0];
  }

  /** Whether `ancestor` is reachable from `descendant`. */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    const { code } = await runGit(["merge-base", "--is-ancestor", ancestor, descendant], {
      cwd: this.dir,
      okCodes: [1],
    });
    return code === 0;
  }
}
