/**
 * Atomic file replacement: write everything to a temporary file beside the target, flush it to
 * disk, then rename it over the target. Readers see the old file or the complete new one; a crash
 * or an error leaves at most a stray temporary file (removed on error).
 */
import { randomBytes } from "node:crypto";
import { type FileHandle, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SafetensorsErrorCode as Code, fail, SafetensorsError } from "./errors.ts";

/** The temporary name used while `path` is being written. */
export function temporaryPath(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
}

/**
 * Calls `write` with a handle to a fresh temporary file, then syncs it and renames it to `path`.
 *
 * @example
 * await writeFileAtomic("index.json", (h) => h.writeFile("{}\n").then(() => undefined));
 */
export async function writeFileAtomic(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temporary = temporaryPath(path);
  let handle: FileHandle | null = null;
  try {
    handle = await open(temporary, "wx");
    await write(handle);
    await handle.sync();
    await handle.close();
    handle = null;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await rm(temporary, { force: true }).catch(() => undefined);
    if (error instanceof SafetensorsError) throw error;
    return fail(Code.IO, `safetensors: cannot write ${path}: ${(error as Error).message}`, error);
  }
}
