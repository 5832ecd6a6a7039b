/** Reading and writing the JSON files of a model folder the way Python's transformers does. */
import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { ErrorCodes, fail } from "../errors.ts";

/** Reads `path` as a JSON object, with a coded error naming the file when it is absent or malformed. */
export async function readJsonObject(path: string, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw fail(ErrorCodes.CONFIG_INVALID, `${what}: cannot read ${path}: ${(error as Error).message}`, error);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw fail(ErrorCodes.CONFIG_INVALID, `${what}: ${path} is not valid JSON: ${(error as Error).message}`, error);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw fail(ErrorCodes.CONFIG_INVALID, `${what}: ${path} must hold a JSON object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** `json.dumps(value, indent=2, sort_keys=True)` as transformers writes configs (keys sorted). */
export function toPythonJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) {
        const x = (v as Record<string, unknown>)[k];
        if (x !== undefined) out[k] = sort(x);
      }
      return out;
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

/** Writes `text` to `path` atomically (temporary file in the same folder, then rename). */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw fail(
      ErrorCodes.MODEL_SAVE_FAILED,
      `savePretrained: cannot write ${path}: ${(error as Error).message}`,
      error,
    );
  }
}
