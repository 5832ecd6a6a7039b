/**
 * Where `fromPretrained` finds a model: a local folder works on its own; a hub repository id
 * (`org/name`) goes through a resolver that the hub client registers (`setModelResolver`), so
 * this package does not depend on the network layer.
 */
import { stat } from "node:fs/promises";
import { ErrorCodes, fail } from "../errors.ts";

/** Options a resolver receives. */
export interface ResolveOptions {
  /** Branch, tag or commit (hub repositories only). */
  revision?: string;
  /** Fail instead of downloading (use only what the cache holds). */
  localFilesOnly?: boolean;
}

/**
 * Turns a repository id into a local folder holding (at least) `config.json` and the weights,
 * e.g. by downloading a snapshot into the HF cache. Returns the folder.
 */
export type ModelResolver = (repoId: string, options: ResolveOptions) => Promise<string>;

let resolver: ModelResolver | null = null;

/**
 * Installs the function that resolves hub repository ids (the hub client does this). Pass
 * `null` to remove it.
 *
 * @example
 * setModelResolver(async (repoId, { revision }) => snapshotDownload({ repo: repoId, revision }));
 */
export function setModelResolver(fn: ModelResolver | null): void {
  resolver = fn;
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** The local folder for `pathOrRepoId`: the path itself when it is a folder, else the resolver's answer. */
export async function resolveModelDir(pathOrRepoId: string, options: ResolveOptions = {}): Promise<string> {
  if (await isDirectory(pathOrRepoId)) return pathOrRepoId;
  const looksLikeRepo = /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(pathOrRepoId) && !pathOrRepoId.startsWith(".");
  if (!looksLikeRepo) {
    throw fail(ErrorCodes.MODEL_NOT_FOUND, `fromPretrained: ${pathOrRepoId} is not a folder`);
  }
  if (!resolver) {
    throw fail(
      ErrorCodes.MODEL_NOT_FOUND,
      `fromPretrained: '${pathOrRepoId}' is neither a local folder nor resolvable: no hub resolver is installed (import @hearth/hub, or pass a local folder)`,
    );
  }
  const dir = await resolver(pathOrRepoId, options);
  if (!(await isDirectory(dir))) {
    throw fail(
      ErrorCodes.MODEL_NOT_FOUND,
      `fromPretrained: the resolver returned ${dir} for '${pathOrRepoId}', which is not a folder`,
    );
  }
  return dir;
}
