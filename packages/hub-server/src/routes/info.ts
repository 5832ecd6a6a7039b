/** Repo info and listing/search (hub-api.md §4.1, §4.2). */

import type { FastifyInstance, FastifyRequest } from "fastify";
import type { RepoRow, RepoType } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { rejectBadCredentials } from "../plugins/auth.ts";
import { cardSummary, parseCard } from "../repos/card.ts";
import { parseBool, parseTypePlural } from "../repos/names.ts";
import { spaceHostLabel } from "../spaces/config.ts";
import { queryList, type RepoParams, repoParams } from "./schemas.ts";

type Info = Record<string, unknown>;

/** The fields every listing entry carries (from the DB only, no git). */
function summary(r: RepoRow): Info {
  const card = (r.extra.card ?? { tags: [] }) as ReturnType<typeof cardSummary>;
  const id = `${r.namespace}/${r.name}`;
  const info: Info = {
    _id: r.id,
    id,
    author: r.namespace,
    private: r.private,
    gated: r.gated,
    disabled: false,
    downloads: r.downloads,
    likes: r.likes,
    tags: card.tags ?? [],
    lastModified: r.lastModified,
    createdAt: r.createdAt,
  };
  if (r.type === "model") {
    info.modelId = id;
    if (card.pipeline_tag) info.pipeline_tag = card.pipeline_tag;
    if (card.library_name) info.library_name = card.library_name;
  }
  if (r.type === "space") info.sdk = r.extra.sdk ?? "static";
  return info;
}

function pick(info: Info, expand: string[]): Info {
  if (!expand.length) return info;
  const out: Info = { _id: info._id, id: info.id };
  for (const k of expand) if (k in info) out[k] = info[k];
  return out;
}

export async function infoRoutes(app: FastifyInstance): Promise<void> {
  /** Full info at a revision: summary + sha, siblings, cardData. */
  async function fullInfo(r: RepoRow, rev: string, blobs: boolean): Promise<Info> {
    const git = app.hub.repos.git(r);
    const sha = await git.resolve(rev);
    const snap = await git.snapshot(sha);
    const info = summary(r);
    info.sha = sha;
    const siblings: Info[] = [];
    let used = 0;
    for (const e of snap.values()) {
      if (e.type !== "file") continue;
      const s: Info = { rfilename: e.path };
      if (blobs) {
        s.size = e.lfs ? e.lfs.size : e.gitSize;
        s.blobId = e.oid;
        if (e.lfs) s.lfs = { size: e.lfs.size, sha256: e.lfs.oid, pointerSize: e.gitSize };
      }
      used += e.lfs ? e.lfs.size : e.gitSize;
      siblings.push(s);
    }
    info.siblings = siblings;
    info.usedStorage = used;
    const readme = snap.get("README.md");
    if (readme?.type === "file" && !readme.lfs) {
      const card = parseCard((await git.readBlob(readme.oid)).toString("utf8"));
      if (Object.keys(card.data).length) info.cardData = card.data;
      const s = cardSummary(card.data);
      info.tags = s.tags;
      if (r.type === "model") {
        if (s.pipeline_tag) info.pipeline_tag = s.pipeline_tag;
        if (s.library_name) info.library_name = s.library_name;
      }
    }
    const config = snap.get("config.json");
    if (r.type === "model" && config?.type === "file" && !config.lfs && config.gitSize < 1_000_000) {
      try {
        const c = JSON.parse((await git.readBlob(config.oid)).toString("utf8")) as Record<string, unknown>;
        info.config = { architectures: c.architectures, model_type: c.model_type };
      } catch {
        // not JSON: leave config out
      }
    }
    if (r.type === "space") {
      const space = app.hub.spaces && (await app.hub.spaces.get(r));
      info.runtime = space?.info() ?? { stage: "NO_APP_FILE", hardware: { current: null, requested: null } };
      // with the Spaces runtime: the label of the per-Space origin (`<ns>--<name>.<originDomain>`, see …/host)
      info.subdomain = space ? spaceHostLabel(r) : `${r.namespace}-${r.name}`.toLowerCase().replace(/[^a-z0-9]+/g, "-");
      if (space?.config) {
        info.sdk = space.config.sdk;
        info.models = space.config.models;
        info.datasets = space.config.datasets;
      }
    }
    info.xetEnabled = false;
    return info;
  }

  const infoHandler = async (req: FastifyRequest<{ Params: RepoParams; Querystring: Record<string, unknown> }>) => {
    rejectBadCredentials(req);
    const type = parseTypePlural(req.params.types);
    const r = await app.hub.repos.getReadable(type, req.params.ns, req.params.name, req.caller);
    const info = await fullInfo(r, req.params.rev ?? "main", parseBool(req.query.blobs));
    return pick(info, queryList(req.query, "expand"));
  };
  const infoSchema = { params: repoParams } as const;
  app.get("/api/:types/:ns/:name", { schema: infoSchema }, infoHandler);
  app.get("/api/:types/:ns/:name/revision/:rev", { schema: infoSchema }, infoHandler);

  app.get<{ Params: RepoParams }>(
    "/api/:types/:ns/:name/auth-check",
    { schema: { params: repoParams } },
    async (req) => {
      rejectBadCredentials(req);
      const r = await app.hub.repos.getReadable(
        parseTypePlural(req.params.types),
        req.params.ns,
        req.params.name,
        req.caller,
      );
      await app.hub.repos.checkGate(req.caller, r);
      return { success: true };
    },
  );

  app.get<{ Params: { types: string }; Querystring: Record<string, unknown> }>(
    "/api/:types",
    {
      schema: {
        params: { type: "object", properties: { types: { type: "string", enum: ["models", "datasets", "spaces"] } } },
      },
    },
    async (req, reply) => {
      rejectBadCredentials(req);
      const type: RepoType = parseTypePlural(req.params.types);
      const q = req.query;
      const limit = Math.min(Math.max(Number(q.limit ?? 100) || 100, 1), 1000);
      let offset = 0;
      if (typeof q.cursor === "string") {
        offset = Number(Buffer.from(q.cursor, "base64url").toString());
        if (!Number.isSafeInteger(offset) || offset < 0)
          throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `list ${req.params.types}: invalid cursor '${q.cursor}'`);
      }
      const visible: string[] = [];
      if (req.caller) {
        visible.push(req.caller.user.name, ...(await app.hub.db.listOrgsOfUser(req.caller.user.id)).map((o) => o.name));
      }
      const sortKey = typeof q.sort === "string" ? q.sort : undefined;
      const sort =
        sortKey === "downloads" || sortKey === "likes" || sortKey === "lastModified" || sortKey === "createdAt"
          ? sortKey
          : sortKey === "trendingScore"
            ? "likes"
            : undefined;
      const direction = q.direction === "-1" || q.direction === -1 || (sort && q.direction === undefined) ? -1 : 1;
      const search = queryList(q, "search").join(" ").trim() || undefined;
      const rows = await app.hub.db.listRepos({
        type,
        search,
        author: typeof q.author === "string" ? q.author : undefined,
        visibleNamespaces: visible,
        sort,
        direction,
        limit: limit + 1,
        offset,
      });
      const filters = queryList(q, "filter");
      let page = rows.slice(0, limit).map(summary);
      if (filters.length) page = page.filter((i) => filters.every((f) => (i.tags as string[]).includes(f)));
      if (rows.length > limit) {
        const next = new URL(`${app.hub.baseUrl(req)}${req.url}`);
        next.searchParams.set("cursor", Buffer.from(String(offset + limit)).toString("base64url"));
        next.searchParams.set("limit", String(limit));
        reply.header("Link", `<${next.href}>; rel="next"`);
      }
      const expand = queryList(q, "expand");
      return page.map((i) => pick(i, expand));
    },
  );
}
