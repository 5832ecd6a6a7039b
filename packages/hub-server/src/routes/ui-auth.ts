/** Web sign-in (password, or an access token as password) and access-token management. */
import { randomBytes } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { checkPassword, hashSecret } from "../auth/credentials.ts";
import type { TokenRole } from "../db/types.ts";
import { readCookie, SESSION_COOKIE } from "../plugins/auth.ts";
import { type Html, html, layout } from "../ui/html.ts";
import { issueToken } from "./users.ts";

export async function uiAuthRoutes(app: FastifyInstance): Promise<void> {
  const page = (reply: FastifyReply, req: FastifyRequest, title: string, body: Html) =>
    reply.type("text/html; charset=utf-8").send(layout(title, req.caller, body));

  const loginForm = (error?: string) =>
    html`<h1>Sign in</h1>${error ? html`<div class="error">${error}</div>` : ""}<form class="box" method="post" action="/login">
<label>User name <input name="username" autocomplete="username" required></label>
<label>Password or access token <input name="password" type="password" autocomplete="current-password" required></label>
<button class="primary">Sign in</button></form><p class="muted">The first user's token is printed when the server starts and saved in <code>$HEARTH_HOME/admin-token</code>.</p>`;

  app.get("/login", async (req, reply) => page(reply, req, "Sign in", loginForm()));

  app.post<{ Body: { username?: string; password?: string } }>("/login", async (req, reply) => {
    const { username = "", password = "" } = (req.body ?? {}) as { username?: string; password?: string };
    const user = await app.hub.db.getUserByName(username);
    let ok = !!user && checkPassword(password, user.passwordHash);
    if (user && !ok && password.startsWith("hf_")) {
      const t = await app.hub.db.findTokenByHash(hashSecret(password));
      ok = !!t && t.userId === user.id && t.role === "write";
    }
    if (!user || !ok) return page(reply.code(401), req, "Sign in", loginForm("Wrong user name, password or token."));
    const session = randomBytes(32).toString("base64url");
    await app.hub.db.createSession(user.id, hashSecret(session));
    return reply
      .header("Set-Cookie", `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${30 * 24 * 3600}`)
      .redirect("/", 303);
  });

  app.post("/logout", async (req, reply) => {
    const session = readCookie(req, SESSION_COOKIE);
    if (session) await app.hub.db.deleteSession(hashSecret(session));
    return reply
      .header("Set-Cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`)
      .redirect("/", 303);
  });

  async function tokensPage(req: FastifyRequest, reply: FastifyReply, created?: string) {
    if (!req.caller) return reply.redirect("/login", 303);
    const tokens = await app.hub.db.listTokens(req.caller.user.id);
    const rows = tokens.map(
      (
        t,
      ) => html`<tr><td><b>${t.name}</b></td><td><span class="badge">${t.role}</span></td><td class="muted">created ${t.createdAt.slice(0, 10)}${t.lastUsedAt ? ` · used ${t.lastUsedAt.slice(0, 10)}` : ""}</td>
<td><form method="post" action="/settings/tokens/${t.id}/delete"><button>Delete</button></form></td></tr>`,
    );
    return page(
      reply,
      req,
      "Access tokens",
      html`<h1>Access tokens</h1>${created ? html`<div class="notice" id="new-token">New token (copy it now, it is not shown again): <code>${created}</code></div>` : ""}
<table class="files">${rows}</table><h2>New token</h2><form class="box" method="post" action="/settings/tokens">
<label>Name <input name="name" required maxlength="100"></label><label>Role <select name="role"><option value="read">read</option><option value="write">write</option></select></label>
<button class="primary">Create token</button></form>`,
    );
  }

  app.get("/settings/tokens", (req, reply) => tokensPage(req, reply));

  app.post<{ Body: { name?: string; role?: string } }>("/settings/tokens", async (req, reply) => {
    if (req.caller?.via !== "session") return reply.redirect("/login", 303);
    const body = (req.body ?? {}) as { name?: string; role?: string };
    const name = (body.name ?? "").trim().slice(0, 100) || "token";
    const role: TokenRole = body.role === "write" ? "write" : "read";
    const { token } = await issueToken(app, req.caller.user.id, name, role);
    return tokensPage(req, reply, token);
  });

  app.post<{ Params: { id: string } }>("/settings/tokens/:id/delete", async (req, reply) => {
    if (req.caller?.via !== "session") return reply.redirect("/login", 303);
    await app.hub.db.deleteToken(req.caller.user.id, req.params.id);
    return reply.redirect("/settings/tokens", 303);
  });
}
