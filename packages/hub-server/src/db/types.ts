/**
 * The metadata store. Every method is async so a networked database (PostgreSQL through
 * `HEARTH_DATABASE_URL`) can implement the same interface; the SQLite implementation answers
 * synchronously underneath.
 */
export type RepoType = "model" | "dataset" | "space";
export type TokenRole = "read" | "write";
export type OrgRole = "read" | "write" | "admin";

export interface UserRow {
  id: string;
  name: string;
  fullname: string;
  email: string | null;
  passwordHash: string | null;
  isAdmin: boolean;
  createdAt: string;
}

export interface OrgRow {
  id: string;
  name: string;
  fullname: string;
  createdAt: string;
}

export interface TokenRow {
  id: string;
  userId: string;
  name: string;
  role: TokenRole;
  /** sha256 hex of the token string; the token itself is never stored. */
  hash: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface RepoRow {
  id: string;
  type: RepoType;
  namespace: string;
  name: string;
  private: boolean;
  gated: false | "auto" | "manual";
  createdAt: string;
  lastModified: string;
  downloads: number;
  likes: number;
  /** Space SDK, license, ... kept as JSON text. */
  extra: Record<string, unknown>;
}

export interface RepoQuery {
  type: RepoType;
  search?: string;
  author?: string;
  /** Namespaces whose private repos the caller may see. */
  visibleNamespaces: string[];
  sort?: "lastModified" | "createdAt" | "downloads" | "likes" | "id";
  direction?: 1 | -1;
  limit: number;
  offset: number;
}

export interface HubDatabase {
  createUser(u: {
    name: string;
    fullname?: string;
    email?: string | null;
    passwordHash?: string | null;
    isAdmin?: boolean;
  }): Promise<UserRow>;
  getUserByName(name: string): Promise<UserRow | undefined>;
  getUserById(id: string): Promise<UserRow | undefined>;
  countUsers(): Promise<number>;
  /** Every user, by name (for `hearth user list`). */
  listUsers(): Promise<UserRow[]>;

  createOrg(o: { name: string; fullname?: string; creatorId: string }): Promise<OrgRow>;
  getOrgByName(name: string): Promise<OrgRow | undefined>;
  setMember(orgId: string, userId: string, role: OrgRole): Promise<void>;
  getMemberRole(orgId: string, userId: string): Promise<OrgRole | undefined>;
  listOrgsOfUser(userId: string): Promise<Array<OrgRow & { role: OrgRole }>>;

  createToken(t: { userId: string; name: string; role: TokenRole; hash: string }): Promise<TokenRow>;
  findTokenByHash(hash: string): Promise<TokenRow | undefined>;
  listTokens(userId: string): Promise<TokenRow[]>;
  deleteToken(userId: string, tokenId: string): Promise<boolean>;
  touchToken(tokenId: string): Promise<void>;

  createSession(userId: string, hash: string): Promise<void>;
  findSession(hash: string): Promise<string | undefined>;
  deleteSession(hash: string): Promise<void>;

  /** Throws HEARTH_HUBSERVER_CONFLICT when (type, namespace, name) exists. */
  createRepo(r: {
    type: RepoType;
    namespace: string;
    name: string;
    private: boolean;
    extra?: Record<string, unknown>;
  }): Promise<RepoRow>;
  getRepo(type: RepoType, namespace: string, name: string): Promise<RepoRow | undefined>;
  deleteRepo(id: string): Promise<void>;
  moveRepo(id: string, namespace: string, name: string): Promise<void>;
  updateRepo(id: string, patch: Partial<Pick<RepoRow, "private" | "gated" | "lastModified" | "extra">>): Promise<void>;
  incrementDownloads(id: string, by?: number): Promise<void>;
  listRepos(q: RepoQuery): Promise<RepoRow[]>;

  close(): Promise<void>;
}
