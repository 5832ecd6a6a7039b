/** whoami-v2, users, organisations and access tokens. */
import type { FastifyInstance } from "fastify";
import { hashPassword, hashSecret, newToken } from "../auth/credentials.ts";
import type { OrgRole, TokenRole } from "../db/types.ts";
import { hubError } from "../errors.ts";
import { requireCaller } from "../plugins/auth.ts";
import { checkNamespace } from "../repos/names.ts";

/** Creates a token for a user and returns the secret (shown once) with its row. */
export async function issueToken(app: FastifyInstance, userId: string, name: string, role: TokenRole) {
  const token = newToken();
  const row = await app.hub.db.createToken({ userId, name, role, hash: hashSecret(token) });
  return { token, row };
}

export async function usersRoutes(app: FastifyInstance): Promise<void> {
  app.get("/api/whoami-v2", async (req) => {
    const caller = requireCaller(req, "whoami-v2");
    const orgs = await app.hub.db.listOrgsOfUser(caller.user.id);
    return {
      type: "user",
      id: caller.user.id,
      name: caller.user.name,
      fullname: caller.user.fullname,
      email: caller.user.email,
      emailVerified: !!caller.user.email,
      isPro: false,
      canPay: false,
      avatarUrl: `${app.hub.baseUrl(req)}/avatars/${caller.user.name}.svg`,
      periodEnd: null,
      orgs: orgs.map((o) => ({
        type: "org",
        id: o.id,
        name: o.name,
        fullname: o.fullname,
        email: null,
        canPay: false,
        avatarUrl: "",
        periodEnd: null,
        roleInOrg: o.role,
      })),
      auth: {
        type: "access_token",
        accessToken: { displayName: caller.tokenName, role: caller.role, createdAt: caller.tokenCreatedAt },
      },
    };
  });

  app.post<{ Body: { name: string; fullname?: string; email?: string; password?: string; isAdmin?: boolean } }>(
    "/api/users",
    {
      schema: {
        body: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string" },
            fullname: { type: "string" },
            email: { type: "string" },
            password: { type: "string", minLength: 8 },
            isAdmin: { type: "boolean" },
          },
        },
      },
    },
    async (req) => {
      const caller = requireCaller(req, "create user");
      if (!caller.user.isAdmin || caller.role !== "write")
        throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "create user: only an admin with a write token may create users");
      const b = req.body;
      const user = await app.hub.db.createUser({
        name: checkNamespace("create user: name", b.name),
        fullname: b.fullname,
        email: b.email ?? null,
        passwordHash: b.password ? hashPassword(b.password) : null,
        isAdmin: b.isAdmin,
      });
      return { id: user.id, name: user.name };
    },
  );

  app.post<{ Body: { name: string; fullname?: string } }>(
    "/api/organizations",
    {
      schema: {
        body: {
          type: "object",
          required: ["name"],
          properties: { name: { type: "string" }, fullname: { type: "string" } },
        },
      },
    },
    async (req) => {
      const caller = requireCaller(req, "create organization");
      if (caller.role !== "write")
        throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "create organization: needs a write token");
      const org = await app.hub.db.createOrg({
        name: checkNamespace("create organization: name", req.body.name),
        fullname: req.body.fullname,
        creatorId: caller.user.id,
      });
      return { id: org.id, name: org.name };
    },
  );

  app.put<{ Params: { org: string; user: string }; Body: { role: OrgRole } }>(
    "/api/organizations/:org/members/:user",
    {
      schema: {
        body: {
          type: "object",
          required: ["role"],
          properties: { role: { type: "string", enum: ["read", "write", "admin"] } },
        },
      },
    },
    async (req) => {
      const caller = requireCaller(req, "set member");
      const org = await app.hub.db.getOrgByName(req.params.org);
      if (!org) throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `set member: no organization '${req.params.org}'`);
      const mine = await app.hub.db.getMemberRole(org.id, caller.user.id);
      if (caller.role !== "write" || (mine !== "admin" && !caller.user.isAdmin))
        throw hubError("HEARTH_HUBSERVER_FORBIDDEN", `set member: only admins of '${org.name}' may change members`);
      const user = await app.hub.db.getUserByName(req.params.user);
      if (!user) throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `set member: no user '${req.params.user}'`);
      await app.hub.db.setMember(org.id, user.id, req.body.role);
      return { success: true };
    },
  );

  app.get("/api/settings/tokens", async (req) => {
    const caller = requireCaller(req, "list tokens");
    return (await app.hub.db.listTokens(caller.user.id)).map((t) => ({
      id: t.id,
      name: t.name,
      role: t.role,
      createdAt: t.createdAt,
      lastUsedAt: t.lastUsedAt,
    }));
  });

  app.post<{ Body: { name: string; role: TokenRole } }>(
    "/api/settings/tokens",
    {
      schema: {
        body: {
          type: "object",
          required: ["name", "role"],
          properties: {
            name: { type: "string", minLength: 1, maxLength: 100 },
            role: { type: "string", enum: ["read", "write"] },
          },
        },
      },
    },
    async (req) => {
      const caller = requireCaller(req, "create token");
      if (caller.role !== "write")
        throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "create token: a read token cannot mint tokens");
      const { token, row } = await issueToken(app, caller.user.id, req.body.name, req.body.role);
      return { id: row.id, name: row.name, role: row.role, token };
    },
  );

  app.delete<{ Params: { id: string } }>("/api/settings/tokens/:id", async (req) => {
    const caller = requireCaller(req, "delete token");
    if (caller.role !== "write") throw hubError("HEARTH_HUBSERVER_FORBIDDEN", "delete token: needs a write token");
    if (!(await app.hub.db.deleteToken(caller.user.id, req.params.id)))
      throw hubError("HEARTH_HUBSERVER_NOT_FOUND", `delete token: no token '${req.params.id}'`);
    return { success: true };
  });
}
