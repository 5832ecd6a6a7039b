/**
 * Per-Space secrets and variables, kept in `<data>/spaces/settings.json` (mode 0600, written
 * atomically). Secret values leave this store only as the app's environment: listings carry keys.
 */
import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { hubError } from "../errors.ts";

export interface SecretInfo {
  key: string;
  description?: string;
  updatedAt: string;
}
export interface VariableInfo extends SecretInfo {
  value: string;
}

interface Entry {
  secrets: Record<string, { value: string; description?: string; updatedAt: string }>;
  variables: Record<string, { value: string; description?: string; updatedAt: string }>;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Names the hub sets itself; a Space may not override them. */
const RESERVED = new Set(["PORT", "HOME", "PATH", "NODE_OPTIONS", "SPACE_ID", "HEARTH_BACKEND"]);

export class SpaceSettingsStore {
  private data: Record<string, Entry> | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(private readonly dir: string) {
    this.file = join(dir, "settings.json");
  }

  private async load(): Promise<Record<string, Entry>> {
    if (!this.data) {
      try {
        this.data = JSON.parse(await readFile(this.file, "utf8")) as Record<string, Entry>;
      } catch {
        this.data = {};
      }
    }
    return this.data;
  }

  private async save(): Promise<void> {
    const text = JSON.stringify(this.data);
    this.writing = this.writing.then(async () => {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, text, { mode: 0o600 });
      await chmod(tmp, 0o600);
      await rename(tmp, this.file);
    });
    await this.writing;
  }

  private async entry(spaceId: string): Promise<Entry> {
    const all = await this.load();
    all[spaceId] ??= { secrets: {}, variables: {} };
    return all[spaceId];
  }

  static checkKey(fn: string, key: unknown): string {
    if (typeof key !== "string" || !KEY.test(key))
      throw hubError(
        "HEARTH_HUBSERVER_BAD_REQUEST",
        `${fn}: key must match ${KEY.source}, got ${JSON.stringify(key)?.slice(0, 80)}`,
      );
    if (RESERVED.has(key) || key.startsWith("HEARTH_"))
      throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `${fn}: key '${key}' is reserved for the hub`);
    return key;
  }

  async set(
    kind: "secrets" | "variables",
    spaceId: string,
    key: string,
    value: unknown,
    description?: unknown,
  ): Promise<void> {
    const k = SpaceSettingsStore.checkKey(`set ${kind}`, key);
    if (typeof value !== "string" || value.length > 64 * 1024)
      throw hubError("HEARTH_HUBSERVER_BAD_REQUEST", `set ${kind}: value must be a string of at most 64 KiB`);
    const e = await this.entry(spaceId);
    // a key is either a secret or a variable
    delete e[kind === "secrets" ? "variables" : "secrets"][k];
    e[kind][k] = {
      value,
      description: typeof description === "string" ? description.slice(0, 500) : undefined,
      updatedAt: new Date().toISOString(),
    };
    await this.save();
  }

  async remove(kind: "secrets" | "variables", spaceId: string, key: string): Promise<boolean> {
    const e = await this.entry(spaceId);
    if (!(key in e[kind])) return false;
    delete e[kind][key];
    await this.save();
    return true;
  }

  /** Secret keys (never values). */
  async secrets(spaceId: string): Promise<SecretInfo[]> {
    const e = await this.entry(spaceId);
    return Object.entries(e.secrets).map(([key, s]) => ({ key, description: s.description, updatedAt: s.updatedAt }));
  }

  async variables(spaceId: string): Promise<VariableInfo[]> {
    const e = await this.entry(spaceId);
    return Object.entries(e.variables).map(([key, v]) => ({
      key,
      value: v.value,
      description: v.description,
      updatedAt: v.updatedAt,
    }));
  }

  /** The app's extra environment, and the secret values to scrub from its logs. */
  async env(spaceId: string): Promise<{ env: Record<string, string>; secretValues: string[] }> {
    const e = await this.entry(spaceId);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(e.variables)) env[k] = v.value;
    for (const [k, v] of Object.entries(e.secrets)) env[k] = v.value;
    return {
      env,
      secretValues: Object.values(e.secrets)
        .map((s) => s.value)
        .filter((v) => v.length > 0),
    };
  }

  async forget(spaceId: string): Promise<void> {
    const all = await this.load();
    if (all[spaceId]) {
      delete all[spaceId];
      await this.save();
    }
  }
}
