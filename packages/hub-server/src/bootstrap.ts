/** First-start set-up: the admin user, its token file, and helpers to add users. */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { hashPassword } from "./auth/credentials.ts";
import type { TokenRole, UserRow } from "./db/types.ts";
import { checkNamespace } from "./repos/names.ts";
import { issueToken } from "./routes/users.ts";

/**
 * Creates a user and one access token for it.
 * @example const { token } = await createUser(app, { name: "alice", role: "write" });
 */
export async function createUser(
  app: FastifyInstance,
  o: { name: string; password?: string; email?: string; isAdmin?: boolean; role?: TokenRole; tokenName?: string },
): Promise<{ user: UserRow; token: string }> {
  const user = await app.hub.db.createUser({
    name: checkNamespace("createUser: name", o.name),
    email: o.email ?? null,
    passwordHash: o.password ? hashPassword(o.password) : null,
    isAdmin: o.isAdmin,
  });
  const { token } = await issueToken(app, user.id, o.tokenName ?? "default", o.role ?? "write");
  return { user, token };
}

/**
 * On a hub without users, creates the admin (name `HEARTH_ADMIN_USER` or "admin") with a write
 * token written to `<dataDir>/admin-token` (mode 0600). Later starts read the token back.
 */
export async function ensureAdmin(
  app: FastifyInstance,
): Promise<{ name: string; token: string | undefined; created: boolean }> {
  const file = join(app.hub.dataDir, "admin-token");
  if ((await app.hub.db.countUsers()) > 0) {
    const token = await readFile(file, "utf8").then(
      (s) => s.trim(),
      () => undefined,
    );
    const name = process.env.HEARTH_ADMIN_USER ?? "admin";
    return { name, token, created: false };
  }
  const name = process.env.HEARTH_ADMIN_USER ?? "admin";
  const { token } = await createUser(app, { name, isAdmin: true, role: "write", tokenName: "admin" });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return { name, token, created: true };
}
