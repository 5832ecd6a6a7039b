/**
 * Where `fromPretrained` finds a model: a local folder works on its own; a hub repository id
 * (`org/name`) is downloaded into the HF cache by `@hearth/hub` (the endpoint, token, cache
 * folder and offline mode come from `HF_ENDPOINT`, `HF_TOKEN`, `HF_HUB_CACHE`,
 * `HF_HUB_OFFLINE`, as in Python). `setModelResolver` replaces that download.
 */
import { stat } from "node:fs/promises";
import { snapshotDownload } from "@hearth/hub";
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

/**
 * The files a model, tokenizer, processor or adapter folder needs; other weight formats
 * (`*.bin`, `*.onnx`, `*.h5`, `*.msgpack`, `*.gguf`) are not downloaded.
 */
export const MODEL_FILE_PATTERNS = ["*.json", "*.safetensors", "*.txt", "*.model", "*.tiktoken", "*.jinja"];

/** The default resolver: a snapshot of the model files in the HF cache. */
export const hubSnapshotResolver: ModelResolver = (repoId, { revision, localFilesOnly }) =>
  snapshotDownload({ repo: repoId, revision, localFilesOnly, allowPatterns: MODEL_FILE_PATTERNS });

let resolver: ModelResolver | null = hubSnapshotResolver;

/**
 * Installs the function that resolves hub repository ids (default: {@link hubSnapshotResolver}).
 * Pass `null` to allow local folders only.
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
      `fromPretrained: '${pathOrRepoId}' is neither a local folder nor resolvable: the hub resolver was removed with setModelResolver(null) (pass a local folder)`,
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
