/**
 * Environment, read at call time with the same names and defaults as Python's
 * `huggingface_hub.constants` (which reads them at import time).
 */
import { homedir } from "node:os";
import { join } from "node:path";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

type Env = Record<string, string | undefined>;

const TRUE_VALUES = new Set(["1", "ON", "YES", "TRUE"]);

/** Python's `_is_true`: 1/ON/YES/TRUE in any case. */
export function envFlag(value: string | undefined): boolean {
  return value !== undefined && TRUE_VALUES.has(value.trim().toUpperCase());
}

/** `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`. */
export function hfHome(env: Env = process.env): string {
  if (env.HF_HOME) return expandUser(env.HF_HOME);
  const xdg = env.XDG_CACHE_HOME ? expandUser(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(xdg, "huggingface");
}

/** `HF_HUB_CACHE`, else legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`. */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE;
  return explicit ? expandUser(explicit) : join(hfHome(env), "hub");
}

/** `HF_TOKEN_PATH`, else `$HF_HOME/token`. */
export function tokenPath(env: Env = process.env): string {
  return env.HF_TOKEN_PATH ? expandUser(env.HF_TOKEN_PATH) : join(hfHome(env), "token");
}

/** `HF_STORED_TOKENS_PATH`, else `$HF_HOME/stored_tokens`. */
export function storedTokensPath(env: Env = process.env): string {
  return env.HF_STORED_TOKENS_PATH ? expandUser(env.HF_STORED_TOKENS_PATH) : join(hfHome(env), "stored_tokens");
}

/** `HF_ENDPOINT` without a trailing `/`, else huggingface.co. */
export function hubEndpoint(env: Env = process.env): string {
  return (env.HF_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, "");
}

/** `HF_HUB_OFFLINE` (or the legacy `TRANSFORMERS_OFFLINE`). */
export function isOffline(env: Env = process.env): boolean {
  return envFlag(env.HF_HUB_OFFLINE) || envFlag(env.TRANSFORMERS_OFFLINE);
}

/** `HF_HUB_DISABLE_PROGRESS_BARS`. */
export function progressBarsDisabled(env: Env = process.env): boolean {
  return envFlag(env.HF_HUB_DISABLE_PROGRESS_BARS);
}

/** `HF_HUB_DISABLE_IMPLICIT_TOKEN`: do not send the stored token unless asked. */
export function implicitTokenDisabled(env: Env = process.env): boolean {
  return envFlag(env.HF_HUB_DISABLE_IMPLICIT_TOKEN);
}

function expandUser(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** `HF_HUB_ETAG_TIMEOUT` (s, default 10): how long the metadata HEAD may take before the cache is used. */
export function etagTimeoutMs(env: Env = process.env): number {
  return seconds(env.HF_HUB_ETAG_TIMEOUT, 10);
}

/** `HF_HUB_DOWNLOAD_TIMEOUT` (s, default 10): longest silence while downloading before resuming. */
export function downloadTimeoutMs(env: Env = process.env): number {
  return seconds(env.HF_HUB_DOWNLOAD_TIMEOUT, 10);
}

/**
 * `HEARTH_HUB_HASH_THREAD`: where a download's sha256 runs. `worker`: another thread hashes the
 * `.incomplete` file behind the receiving thread (download/hash-thread.ts: a native thread reading
 * the page cache through mmap where the addon is built and `HEARTH_HUB_NATIVE_HASH` is not `0`,
 * else a node Worker reading it back), so a download takes about max(receive + write, sha256)
 * rather than their sum. `inline`: each read is hashed on the receiving thread right after it is
 * written (one thread; for machines where no second core is free). Unset (`auto`): the thread for
 * files of 8 MiB and more (96 MiB for the Worker; download/fetch-to-file.ts), inline below, where
 * starting it costs more than it saves.
 */
export function hashThread(env: Env = process.env): "auto" | "inline" | "worker" {
  const v = env.HEARTH_HUB_HASH_THREAD;
  return v === "inline" || v === "worker" ? v : "auto";
}

function seconds(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return (value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback) * 1000;
}
