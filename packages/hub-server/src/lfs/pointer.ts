/** git-lfs pointer files (spec v1): the small text blob git stores in place of a large file. */

export interface LfsPointer {
  oid: string;
  size: number;
}

const pointerRe = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\noid sha256:([0-9a-f]{64})\nsize (\d+)\n$/;

/** Parses a pointer blob, or returns undefined when the bytes are not one. */
export function parsePointer(content: Buffer): LfsPointer | undefined {
  if (content.length > 200 || content.length < 100) return undefined;
  const m = pointerRe.exec(content.toString("latin1"));
  return m ? { oid: m[1] as string, size: Number(m[2]) } : undefined;
}

/** The exact pointer text git-lfs writes for an object. */
export function formatPointer(p: LfsPointer): Buffer {
  return Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${p.oid}\nsize ${p.size}\n`);
}
