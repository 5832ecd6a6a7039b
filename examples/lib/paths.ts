/** Where the examples find their data: ../shared when present, else the repository's fixtures. */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
export const FIXTURES = join(REPO, "fixtures");
export const SHARED = resolve(REPO, "../shared");

/** `data/<rel>` from ../shared if it exists there, else from fixtures/ (or null). */
export function dataPath(rel: string): string | null {
  for (const base of [SHARED, FIXTURES]) {
    const p = join(base, "data", rel);
    if (existsSync(p)) return p;
  }
  return null;
}

/** `--name value` from argv, else `fallback`. */
export function flag(name: string, fallback: number): number;
export function flag(name: string, fallback: string): string;
export function flag(name: string, fallback: number | string): number | string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) return fallback;
  const v = process.argv[i + 1] as string;
  return typeof fallback === "number" ? Number(v) : v;
}
