import { randomBytes } from "node:crypto";
import Database from "better-sqlite3";
import { hubError } from "../errors.ts";
import type {
  HubDatabase,
  OrgRole,
  OrgRow,
  RepoQuery,
  RepoRow,
  RepoType,
  TokenRole,
  TokenRow,
  UserRow,
} from "./types.ts";

const schema = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, fullname TEXT NOT NULL,
  email TEXT, password_hash TEXT, is_admin INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orgs (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE COLLATE NOCASE, fullname TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS members (
  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role TEXT NOT NULL, PRIMARY KEY (org_id, user_id));
CREATE TABLE IF NOT EXISTS tokens (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, last_used_at TEXT);
CREATE TABLE IF NOT EXISTS sessions (
  hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS repos (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, namespace TEXT NOT NULL COLLATE NOCASE, name TEXT NOT NULL COLLATE NOCASE,
  private INTEGER NOT NULL, gated TEXT NOT NULL DEFAULT 'false', created_at TEXT NOT NULL, last_modified TEXT NOT NULL,
  downloads INTEGER NOT NULL DEFAULT 0, likes INTEGER NOT NULL DEFAULT 0, extra TEXT NOT NULL DEFAULT '{}',
  UNIQUE (type, namespace, name));
`;

const newId = (): string => randomBytes(12).toString("hex");
const now = (): string => new Date().toISOString();

type Row = Record<string, unknown>;

function toUser(r: Row): UserRow {
  return {
    id: r.id as string,
    name: r.name as string,
    fullname: r.fullname as string,
    email: (r.email as string | null) ?? null,
    passwordHash: (r.password_hash as string | null) ?? null,
    isAdmin: r.is_admin === 1,
    createdAt: r.created_at as string,
  };
}
function toOrg(r: Row): OrgRow {
  return {
    id: r.id as string,
    name: r.name as string,
    fullname: r.fullname as string,
    createdAt: r.created_at as string,
  };
}
function toToken(r: Row): TokenRow {
  return {
    id: r.id as string,
    userId: r.user_id as string,
    name: r.name as string,
    role: r.role as TokenRole,
    hash: r.hash as string,
    createdAt: r.created_at as string,
    lastUsedAt: (r.last_used_at as string | null) ?? null,
  };
}
function toRepo(r: Row): RepoRow {
  const gated = r.gated as string;
  return {
    id: r.id as string,
    type: r.type as RepoType,
    namespace: r.namespace as string,
    name: r.name as string,
    private: r.private === 1,
    gated: gated === "auto" || gated === "manual" ? gated : false,
    createdAt: r.created_at as string,
    lastModified: r.last_modified as string,
    downloads: r.downloads as number,
    likes: r.likes as number,
    extra: JSON.parse(r.extra as string) as Record<string, unknown>,
  };
}

/** SQLite implementation of {@link HubDatabase} (better-sqlite3, WAL mode). */
export class SqliteDatabase implements HubDatabase {
  private readonly db: Database.Database;

  /** Opens (creating if needed) the database file; `":memory:"` for tests. */
  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    // WAL + NORMAL never corrupts the file; a power cut may drop the last transactions.
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(schema);
  }

  async createUser(u: Parameters<HubDatabase["createUser"]>[0]): Promise<UserRow> {
    if (
      this.db.prepare("SELECT 1 FROM orgs WHERE name = ?").get(u.name) ||
      this.db.prepare("SELECT 1 FROM users WHERE name = ?").get(u.name)
    ) {
      throw hubError("HEARTH_HUBSERVER_CONFLICT", `createUser: the name '${u.name}' is already taken`);
    }
    const row = {
      id: newId(),
      name: u.name,
      fullname: u.fullname ?? u.name,
      email: u.email ?? null,
      password_hash: u.passwordHash ?? null,
      is_admin: u.isAdmin ? 1 : 0,
      created_at: now(),
    };
    this.db
      .prepare("INSERT INTO users VALUES (@id, @name, @fullname, @email, @password_hash, @is_admin, @created_at)")
      .run(row);
    return toUser(row);
  }
  async getUserByName(name: string): Promise<UserRow | undefined> {
    const r = this.db.prepare("SELECT * FROM users WHERE name = ?").get(name) as Row | undefined;
    return r && toUser(r);
  }
  async getUserById(id: string): Promise<UserRow | undefined> {
    const r = this.db.prepare("SELECT * FROM users WHERE id = ?").get(id) as Row | undefined;
    return r && toUser(r);
  }
  async countUsers(): Promise<number> {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM users").get() as { n: number }).n;
  }

  async listUsers(): Promise<UserRow[]> {
    return (this.db.prepare("SELECT * FROM users ORDER BY name").all() as Row[]).map(toUser);
  }

  async createOrg(o: { name: string; fullname?: string; creatorId: string }): Promise<OrgRow> {
    if (
      this.db.prepare("SELECT 1 FROM orgs WHERE name = ?").get(o.name) ||
      this.db.prepare("SELECT 1 FROM users WHERE name = ?").get(o.name)
    ) {
      throw hubError("HEARTH_HUBSERVER_CONFLICT", `createOrg: the name '${o.name}' is already taken`);
    }
    const row = { id: newId(), name: o.name, fullname: o.fullname ?? o.name, created_at: now() };
    this.db.transaction(() => {
      this.db.prepare("INSERT INTO orgs VALUES (@id, @name, @fullname, @created_at)").run(row);
      this.db.prepare("INSERT INTO members VALUES (?, ?, 'admin')").run(row.id, o.creatorId);
    })();
    return toOrg(row);
  }
  async getOrgByName(name: string): Promise<OrgRow | undefined> {
    const r = this.db.prepare("SELECT * FROM orgs WHERE name = ?").get(name) as Row | undefined;
    return r && toOrg(r);
  }
  async setMember(orgId: string, userId: string, role: OrgRole): Promise<void> {
    this.db
      .prepare("INSERT INTO members VALUES (?, ?, ?) ON CONFLICT (org_id, user_id) DO UPDATE SET role = excluded.role")
      .run(orgId, userId, role);
  }
  async getMemberRole(orgId: string, userId: string): Promise<OrgRole | undefined> {
    const r = this.db.prepare("SELECT role FROM members WHERE org_id = ? AND user_id = ?").get(orgId, userId) as
      | { role: OrgRole }
      | undefined;
    return r?.role;
  }
  async listOrgsOfUser(userId: string): Promise<Array<OrgRow & { role: OrgRole }>> {
    const rows = this.db
      .prepare("SELECT o.*, m.role FROM orgs o JOIN members m ON m.org_id = o.id WHERE m.user_id = ? ORDER BY o.name")
      .all(userId) as Row[];
    return rows.map((r) => ({ ...toOrg(r), role: r.role as OrgRole }));
  }

  async createToken(t: { userId: string; name: string; role: TokenRole; hash: string }): Promise<TokenRow> {
    const row = {
      id: newId(),
      user_id: t.userId,
      name: t.name,
      role: t.role,
      hash: t.hash,
      created_at: now(),
      last_used_at: null,
    };
    this.db
      .prepare("INSERT INTO tokens VALUES (@id, @user_id, @name, @role, @hash, @created_at, @last_used_at)")
      .run(row);
    return toToken(row);
  }
  async findTokenByHash(hash: string): Promise<TokenRow | undefined> {
    const r = this.db.prepare("SELECT * FROM tokens WHERE hash = ?").get(hash) as Row | undefined;
    return r && toToken(r);
  }
  async listTokens(userId: string): Promise<TokenRow[]> {
    return (this.db.prepare("SELECT * FROM tokens WHERE user_id = ? ORDER BY created_at").all(userId) as Row[]).map(
      toToken,
    );
  }
  async deleteToken(userId: string, tokenId: string): Promise<boolean> {
    return this.db.prepare("DELETE FROM tokens WHERE user_id = ? AND id = ?").run(userId, tokenId).changes > 0;
  }
  async touchToken(tokenId: string): Promise<void> {
    this.db.prepare("UPDATE tokens SET last_used_at = ? WHERE id = ?").run(now(), tokenId);
  }

  async createSession(userId: string, hash: string): Promise<void> {
    this.db.prepare("INSERT INTO sessions VALUES (?, ?, ?)").run(hash, userId, now());
  }
  async findSession(hash: string): Promise<string | undefined> {
    const r = this.db.prepare("SELECT user_id FROM sessions WHERE hash = ?").get(hash) as
      | { user_id: string }
      | undefined;
    return r?.user_id;
  }
  async deleteSession(hash: string): Promise<void> {
    this.db.prepare("DELETE FROM sessions WHERE hash = ?").run(hash);
  }

  async createRepo(r: {
    type: RepoType;
    namespace: string;
    name: string;
    private: boolean;
    extra?: Record<string, unknown>;
  }): Promise<RepoRow> {
    const t = now();
    const row = {
      id: newId(),
      type: r.type,
      namespace: r.namespace,
      name: r.name,
      private: r.private ? 1 : 0,
      gated: "false",
      created_at: t,
      last_modified: t,
      downloads: 0,
      likes: 0,
      extra: JSON.stringify(r.extra ?? {}),
    };
    try {
      this.db
        .prepare(
          "INSERT INTO repos VALUES (@id, @type, @namespace, @name, @private, @gated, @created_at, @last_modified, @downloads, @likes, @extra)",
        )
        .run(row);
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw hubError("HEARTH_HUBSERVER_CONFLICT", `createRepo: ${r.type} '${r.namespace}/${r.name}' already exists`);
      }
      throw e;
    }
    return toRepo(row);
  }
  async getRepo(type: RepoType, namespace: string, name: string): Promise<RepoRow | undefined> {
    const r = this.db
      .prepare("SELECT * FROM repos WHERE type = ? AND namespace = ? AND name = ?")
      .get(type, namespace, name) as Row | undefined;
    return r && toRepo(r);
  }
  async deleteRepo(id: string): Promise<void> {
    this.db.prepare("DELETE FROM repos WHERE id = ?").run(id);
  }
  async moveRepo(id: string, namespace: string, name: string): Promise<void> {
    try {
      this.db.prepare("UPDATE repos SET namespace = ?, name = ? WHERE id = ?").run(namespace, name, id);
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw hubError("HEARTH_HUBSERVER_CONFLICT", `moveRepo: '${namespace}/${name}' already exists`);
      }
      throw e;
    }
  }
  async updateRepo(
    id: string,
    patch: Partial<Pick<RepoRow, "private" | "gated" | "lastModified" | "extra">>,
  ): Promise<void> {
    if (patch.private !== undefined)
      this.db.prepare("UPDATE repos SET private = ? WHERE id = ?").run(patch.private ? 1 : 0, id);
    if (patch.gated !== undefined)
      this.db.prepare("UPDATE repos SET gated = ? WHERE id = ?").run(String(patch.gated), id);
    if (patch.lastModified !== undefined)
      this.db.prepare("UPDATE repos SET last_modified = ? WHERE id = ?").run(patch.lastModified, id);
    if (patch.extra !== undefined)
      this.db.prepare("UPDATE repos SET extra = ? WHERE id = ?").run(JSON.stringify(patch.extra), id);
  }
  async incrementDownloads(id: string, by = 1): Promise<void> {
    this.db.prepare("UPDATE repos SET downloads = downloads + ? WHERE id = ?").run(by, id);
  }
  async listRepos(q: RepoQuery): Promise<RepoRow[]> {
    const where = ["type = @type"];
    const params: Record<string, unknown> = { type: q.type, limit: q.limit, offset: q.offset };
    const visible = q.visibleNamespaces.map((n, i) => {
      params[`v${i}`] = n;
      return `@v${i}`;
    });
    where.push(visible.length ? `(private = 0 OR namespace IN (${visible.join(", ")}))` : "private = 0");
    if (q.search) {
      where.push("instr(lower(namespace || '/' || name), lower(@search)) > 0");
      params.search = q.search;
    }
    if (q.author) {
      where.push("namespace = @author");
      params.author = q.author;
    }
    const column = {
      lastModified: "last_modified",
      createdAt: "created_at",
      downloads: "downloads",
      likes: "likes",
      id: "namespace || '/' || name",
    }[q.sort ?? "id"];
    const dir = q.direction === -1 ? "DESC" : "ASC";
    const sql = `SELECT * FROM repos WHERE ${where.join(" AND ")} ORDER BY ${column} ${dir}, id LIMIT @limit OFFSET @offset`;
    return (this.db.prepare(sql).all(params) as Row[]).map(toRepo);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
