import type { HubCallOptions, WhoAmI } from "../types/public.ts";
import { getJson, hubContext } from "../utils/http.ts";

/**
 * Who the token belongs to: `GET /api/whoami-v2`.
 *
 * @example
 * const me = await whoami({ accessToken: "hf_..." });
 * console.log(me.name, me.auth.accessToken?.role);
 */
export async function whoami(opts: HubCallOptions = {}): Promise<WhoAmI> {
  const ctx = hubContext(opts, { requireToken: true, purpose: "whoami" });
  const raw = await getJson<WhoAmI>(ctx, `${ctx.endpoint}/api/whoami-v2`);
  return { ...raw, orgs: raw.orgs ?? [], auth: raw.auth ?? {} };
}
