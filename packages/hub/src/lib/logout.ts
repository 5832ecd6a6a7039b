import { rmSync } from "node:fs";
import { readStoredTokens, readTokenFile, removeTokenFiles, writeStoredTokens } from "../auth/token-store.ts";
import { tokenPath } from "../config.ts";
import { HubError } from "../errors.ts";

export interface LogoutOptions {
  /** Forget only this stored token; default: all of them and the active one. */
  tokenName?: string;
}

export interface LogoutResult {
  /** False when nothing was stored. */
  wasLoggedIn: boolean;
  /** HF_TOKEN is still set and will keep being used. */
  envTokenStillSet: boolean;
}

/**
 * Forgets stored tokens as huggingface_hub's `logout` does: without a name, deletes
 * `$HF_HOME/token` and `$HF_HOME/stored_tokens`; with a name, removes that section and the
 * active token too if it was that one.
 *
 * @example
 * await logout();
 */
export async function logout(opts: LogoutOptions = {}): Promise<LogoutResult> {
  const stored = readStoredTokens();
  const active = readTokenFile();
  const envTokenStillSet = Boolean(process.env.HF_TOKEN || process.env.HUGGING_FACE_HUB_TOKEN);
  if (!active && stored.size === 0) return { wasLoggedIn: false, envTokenStillSet };
  if (!opts.tokenName) {
    removeTokenFiles();
    return { wasLoggedIn: true, envTokenStillSet };
  }
  const entry = stored.get(opts.tokenName);
  if (!entry) {
    throw new HubError(
      "HEARTH_HUB_INVALID_ARGUMENT",
      `logout: tokenName '${opts.tokenName}' is not stored; stored names: ${[...stored.keys()].join(", ") || "none"}`,
    );
  }
  stored.delete(opts.tokenName);
  writeStoredTokens(stored);
  if (active && entry.hf_token === active) rmSync(tokenPath(), { force: true });
  return { wasLoggedIn: true, envTokenStillSet };
}
