/**
 * Fingerprints: a dataset's identity is a hash of where it came from and every transform applied
 * to it (name, arguments, and the source text of user functions), as in Python's `datasets`.
 * A transform's cache file is named `cache-<new fingerprint>.arrow`, so a re-run finds it.
 */
import { createHash, randomBytes } from "node:crypto";

function canonical(value: unknown): unknown {
  if (typeof value === "function") return `fn:${value.toString()}`;
  if (typeof value === "bigint") return `bigint:${value}`;
  if (value === undefined) return null;
  if (ArrayBuffer.isView(value)) {
    const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return `bytes:${value.constructor.name}:${createHash("sha256").update(bytes).digest("hex")}`;
  }
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = canonical((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** The fingerprint after applying `transform` with `args` to a dataset with fingerprint `previous`. */
export function updateFingerprint(previous: string, transform: string, args: Record<string, unknown>): string {
  return createHash("sha256")
    .update(JSON.stringify([previous, transform, canonical(args)]))
    .digest("hex")
    .slice(0, 16);
}

/** A fingerprint for arbitrary content (file identities, in-memory data). */
export function hashFingerprint(value: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(canonical(value)))
    .digest("hex")
    .slice(0, 16);
}

/** A random fingerprint, for data whose content is not hashed. */
export function randomFingerprint(): string {
  return randomBytes(8).toString("hex");
}
