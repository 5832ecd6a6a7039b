import { join } from "node:path";
import { hubError } from "../errors.ts";
import { SqliteDatabase } from "./sqlite.ts";
import type { HubDatabase } from "./types.ts";

export type { HubDatabase } from "./types.ts";

/**
 * Opens the metadata database. `url` is `HEARTH_DATABASE_URL` when set: `sqlite:<file>` or a
 * plain file path selects SQLite; `postgres://...` is recognised but needs a PostgreSQL
 * implementation of {@link HubDatabase} passed to `buildApp({ database })`.
 */
export function openDatabase(dataDir: string, url?: string): HubDatabase {
  if (!url) return new SqliteDatabase(join(dataDir, "hub.sqlite"));
  if (url.startsWith("sqlite:")) return new SqliteDatabase(url.slice("sqlite:".length));
  if (/^postgres(ql)?:/.test(url)) {
    throw hubError(
      "HEARTH_HUBSERVER_DB_UNSUPPORTED",
      "openDatabase: HEARTH_DATABASE_URL is a PostgreSQL URL, but this build only ships the SQLite store; pass an implementation of HubDatabase as buildApp({ database })",
    );
  }
  if (url.includes("://")) {
    throw hubError(
      "HEARTH_HUBSERVER_DB_UNSUPPORTED",
      `openDatabase: HEARTH_DATABASE_URL '${url}' names an unknown database; expected sqlite:<file> or a file path`,
    );
  }
  return new SqliteDatabase(url);
}
