import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { hashSecret } from "../auth/credentials.ts";
import { hubError } from "../errors.ts";
import type { Caller } from "../repos/service.ts";

export const SESSION_COOKIE = "hearth_session";

/** Reads one cookie from the Cookie header. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === name) return decodeURIComponent(v.join("="));
  }
  return undefined;
}

/** The token (Bearer, or the password of Basic) sent with the request. */
function presentedToken(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  const [scheme, value] = h.split(/\s+/, 2);
  if (!value) return undefined;
  if (/^bearer$/i.test(scheme ?? "")) return value.trim();
  if (/^basic$/i.test(scheme ?? "")) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const i = decoded.indexOf(":");
    return i >= 0 ? decoded.slice(i + 1) : decoded;
  }
  return undefined;
}

/**
 * Resolves `req.caller` on every request from a Bearer token, a Basic password (git, git-lfs)
 * or the web session cookie. An unknown token marks `req.badCredentials`.
 */
export const authPlugin = fp(
  async (app: FastifyInstance) => {
    app.decorateRequest("caller", undefined);
    app.decorateRequest("badCredentials", false);
    app.addHook("onRequest", async (req) => {
      const { db } = app.hub;
      const token = presentedToken(req);
      if (token) {
        const row = await db.findTokenByHash(hashSecret(token));
        const user = row && (await db.getUserById(row.userId));
        if (row && user) {
          req.caller = {
            user,
            role: row.role,
            via: "token",
            tokenName: row.name,
            tokenCreatedAt: row.createdAt,
          } satisfies Caller;
          return;
        }
        req.badCredentials = true;
        return;
      }
      const session = readCookie(req, SESSION_COOKIE);
      if (session) {
        const userId = await db.findSession(hashSecret(session));
        const user = userId && (await db.getUserById(userId));
        if (user)
          req.caller = {
            user,
            role: "write",
            via: "session",
            tokenName: "web session",
            tokenCreatedAt: user.createdAt,
          };
      }
    });
  },
  { name: "hearth-auth", dependencies: ["hearth-context"] },
);

/** Throws the HF "invalid credentials" 401 when a bad token was sent (HF does this even on public repos). */
export function rejectBadCredentials(req: FastifyRequest): void {
  if (req.badCredentials)
    throw hubError("HEARTH_HUBSERVER_UNAUTHORIZED", "Invalid credentials in Authorization header");
}

/** The signed-in caller, or a 401. */
export function requireCaller(req: FastifyRequest, what: string): Caller {
  rejectBadCredentials(req);
  if (!req.caller)
    throw hubError(
      "HEARTH_HUBSERVER_UNAUTHORIZED",
      `${what}: an access token is required (Authorization: Bearer hf_...)`,
    );
  return req.caller;
}

/** 401 asking git / git-lfs for Basic credentials. */
export function askForBasic(reply: FastifyReply, message: string): FastifyReply {
  return reply
    .code(401)
    .header("WWW-Authenticate", 'Basic realm="Hearth"')
    .header("LFS-Authenticate", 'Basic realm="Hearth"')
    .header("Content-Type", "text/plain; charset=utf-8")
    .send(`${message}\n`);
}
