import { readStoredTokens, writeStoredTokens, writeTokenFile } from "../auth/token-store.ts";
import { tokenPath } from "../config.ts";
import { HubError, isHubError } from "../errors.ts";
import type { HubCallOptions, WhoAmI } from "../types/public.ts";
import { whoami } from "./whoami.ts";

export interface LoginOptions extends Omit<HubCallOptions, "accessToken"> {
  token: string;
}

export interface LoginResult {
  user: WhoAmI;
  /** Name the token is stored under in `stored_tokens`. */
  tokenName: string;
  tokenPath: string;
}

/**
 * Validates `token` with `/api/whoami-v2`, then stores it as huggingface_hub does: as the
 * active token in `$HF_HOME/token` and under its display name in `$HF_HOME/stored_tokens`,
 * both mode 0600. Organisation tokens (`api_org...`) are refused.
 *
 * @example
 * const { user } = await login({ token: process.env.MY_TOKEN! });
 */
export async function login(opts: LoginOptions): Promise<LoginResult> {
  const token = opts.token.trim();
  if (!token) throw new HubError("HEARTH_HUB_INVALID_ARGUMENT", "login: argument 'token' is empty");
  if (token.startsWith("api_org")) {
    throw new HubError(
      "HEARTH_HUB_INVALID_TOKEN",
      "login: an organisation token (api_org...) cannot log in; use a personal token",
    );
  }
  let user: WhoAmI;
  try {
    user = await whoami({ ...opts, accessToken: token });
  } catch (err) {
    if (isHubError(err, "HEARTH_HUB_UNAUTHORIZED")) {
      throw new HubError(
        "HEARTH_HUB_INVALID_TOKEN",
        `login: the hub rejected the token (${err.message})`,
        {},
        { cause: err },
      );
    }
    throw err;
  }
  const tokenName = user.auth.accessToken?.displayName ?? `token-${user.name}`;
  const stored = readStoredTokens();
  stored.set(tokenName, { ...(stored.get(tokenName) ?? {}), hf_token: token });
  writeStoredTokens(stored);
  writeTokenFile(token);
  return { user, tokenName, tokenPath: tokenPath() };
}
