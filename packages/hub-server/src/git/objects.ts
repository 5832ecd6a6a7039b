/**
 * Writes git objects (blob, tree, commit) as loose objects straight from Node: hashing and
 * deflating here avoids one git process per file when the commit API builds a commit.
 * Format: `<type> <len>\0<content>`, sha1 over that, zlib-deflated into objects/ab/cdef...
 */
import { createHash, randomBytes } from "node:crypto";
import { access, mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { deflateSync } from "node:zlib";

export type ObjectType = "blob" | "tree" | "commit" | "tag";

/** Git blob id (sha1 of `blob <len>\0` + content) without writing anything. */
export function hashBlob(content: Buffer): string {
  return hashObject("blob", content);
}

export function hashObject(type: ObjectType, content: Buffer): string {
  return createHash("sha1").update(`${type} ${content.length}\0`).update(content).digest("hex");
}

/** Writes the object if absent (temp file + rename); returns its id. */
export async function writeObject(gitDir: string, type: ObjectType, content: Buffer): Promise<string> {
  const header = Buffer.from(`${type} ${content.length}\0`);
  const full = Buffer.concat([header, content]);
  const oid = createHash("sha1").update(full).digest("hex");
  const dir = join(gitDir, "objects", oid.slice(0, 2));
  const path = join(dir, oid.slice(2));
  try {
    await access(path);
    return oid;
  } catch {
    // not there yet
  }
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `tmp_${randomBytes(8).toString("hex")}`);
  await writeFile(tmp, deflateSync(full, { level: 1 }), { mode: 0o444 });
  await rename(tmp, path);
  return oid;
}

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
}

/** Serialises a tree in git's order (names compared bytewise, directories as `name/`). */
export function serializeTree(entries: TreeEntry[]): Buffer {
  const key = (e: TreeEntry) => Buffer.from(e.mode === "40000" ? `${e.name}/` : e.name);
  const sorted = [...entries].sort((a, b) => Buffer.compare(key(a), key(b)));
  const parts: Buffer[] = [];
  for (const e of sorted) {
    parts.push(Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, "hex"));
  }
  return Buffer.concat(parts);
}

export interface Signature {
  name: string;
  email: string;
  date: Date;
}

const sig = (s: Signature) =>
  `${s.name.replace(/[<>\n]/g, "")} <${s.email.replace(/[<>\n]/g, "")}> ${Math.floor(s.date.getTime() / 1000)} +0000`;

/** Serialises a commit object. */
export function serializeCommit(c: { tree: string; parents: string[]; author: Signature; message: string }): Buffer {
  const lines = [
    `tree ${c.tree}`,
    ...c.parents.map((p) => `parent ${p}`),
    `author ${sig(c.author)}`,
    `committer ${sig(c.author)}`,
    "",
    c.message,
  ];
  return Buffer.from(lines.join("\n").replace(/\n*$/, "\n"));
}
