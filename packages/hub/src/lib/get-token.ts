import { getToken as readToken } from "../auth/token-store.ts";

/**
 * The token Hearth will send: `HF_TOKEN`, else `HUGGING_FACE_HUB_TOKEN`, else
 * `$HF_TOKEN_PATH` / `$HF_HOME/token`; undefined when none.
 *
 * @example
 * if (!getToken()) console.log("run `hearth login` first");
 */
export function getToken(): string | undefined {
  return readToken();
}
