import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..", "..", "..");
const shared = resolve(repo, "..", "shared", "data");

/** A path under `data/`: the shared copy when present, else the repo's fixture copy. */
export function dataPath(rel: string): string {
  const s = join(shared, rel);
  return existsSync(s) ? s : join(repo, "fixtures", "data", rel);
}

/** A path that only ../shared has (big corpora), or null. */
export function sharedOnly(rel: string): string | null {
  const s = join(shared, rel);
  return existsSync(s) ? s : null;
}

/** Whether ../shared is present (the full corpora rather than the fixture slices). */
export const haveShared = existsSync(shared);

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(prefix = "hearth-ds-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
