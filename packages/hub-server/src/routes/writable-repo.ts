import type { FastifyRequest } from "fastify";
import type { RepoRow } from "../db/types.ts";
import { requireCaller } from "../plugins/auth.ts";
import { parseTypePlural } from "../repos/names.ts";
import type { Caller } from "../repos/service.ts";
import type { RepoParams } from "./schemas.ts";

/**
 * The signed-in caller and the repo named by the route's `:types/:ns/:name`, which the caller
 * may write: 401 without a token, 403 when visible but read-only, 404 when not visible.
 */
export async function writableRepo(
  req: FastifyRequest<{ Params: RepoParams }>,
  what: string,
): Promise<{ caller: Caller; repo: RepoRow }> {
  const caller = requireCaller(req, what);
  const { types, ns, name } = req.params;
  const repo = await req.server.hub.repos.getWritable(parseTypePlural(types), ns, name, caller);
  return { caller, repo };
}
