/**
 * Token files exactly as huggingface_hub writes them: the active token in `$HF_HOME/token`,
 * every named token in the INI file `$HF_HOME/stored_tokens` (section = token name, key
 * `hf_token`), both with mode 0600, written atomically.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { storedTokensPath, tokenPath } from "../config.ts";

type Env = Record<string, string | undefined>;

/** Python's `_clean_token`: trims whitespace; empty means none. */
function clean(token: string | undefined): string | undefined {
  const t = token?.replace(/[\r\n]/g, "").trim();
  return t ? t : undefined;
}

/** `HF_TOKEN`, then legacy `HUGGING_FACE_HUB_TOKEN`, then the token file. */
export function getToken(env: Env = process.env): string | undefined {
  return clean(env.HF_TOKEN) ?? clean(env.HUGGING_FACE_HUB_TOKEN) ?? readTokenFile(env);
}

export function readTokenFile(env: Env = process.env): string | undefined {
  try {
    return clean(readFileSync(tokenPath(env), "utf8"));
  } catch {
    return undefined;
  }
}

/** Parses the stored_tokens INI file: section name -> fields. Missing file -> empty. */
export function readStoredTokens(env: Env = process.env): Map<string, Record<string, string>> {
  const out = new Map<string, Record<string, string>>();
  let text: string;
  try {
    text = readFileSync(storedTokensPath(env), "utf8");
  } catch {
    return out;
  }
  let section: Record<string, string> | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) {
      section = {};
      out.set(head[1], section);
      continue;
    }
    const kv = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (kv && section) section[kv[1].toLowerCase()] = kv[2];
  }
  return out;
}

/** Writes the stored_tokens file in configparser's layout, sections sorted by name. */
export function writeStoredTokens(tokens: Map<string, Record<string, string>>, env: Env = process.env): void {
  const names = [...tokens.keys()].sort();
  let text = "";
  for (const name of names) {
    text += `[${name}]\n`;
    for (const [k, v] of Object.entries(tokens.get(name) ?? {})) text += `${k} = ${v}\n`;
    text += "\n";
  }
  writeSecret(storedTokensPath(env), text);
}

/** Writes the active token file. */
export function writeTokenFile(token: string, env: Env = process.env): void {
  writeSecret(tokenPath(env), token);
}

export function removeTokenFiles(env: Env = process.env): void {
  rmSync(tokenPath(env), { force: true });
  rmSync(storedTokensPath(env), { force: true });
}

/** Atomic write with mode 0600 from the start: temp file in the same folder, then rename. */
export function writeSecret(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
