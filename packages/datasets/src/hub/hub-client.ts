/**
 * The hub client (`@hearth/hub`) behind the resolver and uploader interfaces: dataset repos are
 * listed with the tree API, files land in the HF cache shared with Python (`hfHubDownload`), and
 * `pushToHub` commits all shards and the README in one commit.
 */
import { createCommit, createRepo, getToken, hfHubDownload, hfHubUrl, listRepoTree } from "@hearth/hub";
import { asyncBufferFromUrl } from "hyparquet";
import { fail } from "../errors.ts";
import type { HubUploader } from "../io/push-to-hub.ts";
import type { HubResolver } from "./resolver.ts";

/** Where and how to reach the hub (defaults: `HF_ENDPOINT`, `HF_TOKEN` or the stored token). */
export interface HubClientOptions {
  endpoint?: string;
  accessToken?: string | false;
  fetch?: typeof fetch;
  /** The hub file cache (default `HF_HUB_CACHE` / `$HF_HOME/hub`). */
  hubCacheDir?: string;
}

function wrap(what: string, repoId: string, error: unknown): Error {
  const e = error as { code?: string; message?: string };
  if (e.code?.startsWith("HEARTH_DATASETS_")) return error as Error;
  return fail(
    "HEARTH_DATASETS_HUB_UNAVAILABLE",
    `${what} '${repoId}': ${e.code ? `${e.code}: ` : ""}${e.message ?? String(error)}`,
    error,
  );
}

/** Reads dataset repositories through `@hearth/hub`. */
export function hubResolver(options: HubClientOptions = {}): HubResolver {
  const call = { endpoint: options.endpoint, accessToken: options.accessToken, fetch: options.fetch };
  return {
    async listFiles(repoId, { revision }) {
      try {
        const out: string[] = [];
        for await (const e of listRepoTree({
          ...call,
          repo: { type: "dataset", name: repoId },
          revision,
          recursive: true,
        })) {
          if (e.type === "file") out.push(e.path);
        }
        return out;
      } catch (error) {
        throw wrap("loadDataset: cannot list the dataset repository", repoId, error);
      }
    },
    async openFile(repoId, path, { revision }) {
      const url = hfHubUrl({ repo: { type: "dataset", name: repoId }, path, revision, endpoint: options.endpoint });
      const token = options.accessToken === false ? undefined : (options.accessToken ?? getToken());
      try {
        return await asyncBufferFromUrl({
          url,
          fetch: options.fetch,
          requestInit: token ? { headers: { authorization: `Bearer ${token}` } } : undefined,
        });
      } catch (error) {
        throw wrap(`loadDataset: cannot open '${path}' of`, repoId, error);
      }
    },
    async downloadFile(repoId, path, { revision }) {
      try {
        return await hfHubDownload({
          ...call,
          repo: { type: "dataset", name: repoId },
          path,
          revision,
          cacheDir: options.hubCacheDir,
          progressBar: false,
        });
      } catch (error) {
        throw wrap(`loadDataset: cannot download '${path}' of`, repoId, error);
      }
    },
  };
}

/** Commits files to a dataset repository through `@hearth/hub`, creating the repo when needed. */
export function hubUploader(options: HubClientOptions & { private?: boolean } = {}): HubUploader {
  const call = { endpoint: options.endpoint, accessToken: options.accessToken, fetch: options.fetch };
  return {
    async uploadFiles(repoId, files, { commitMessage, revision }) {
      const repo = { type: "dataset" as const, name: repoId };
      try {
        await createRepo({ ...call, repo, existOk: true, private: options.private });
        await createCommit({
          ...call,
          repo,
          title: commitMessage,
          revision,
          progressBar: false,
          operations: files.map((f) => ({ operation: "add" as const, pathInRepo: f.path, content: f.content })),
        });
      } catch (error) {
        throw wrap("pushToHub: cannot commit to", repoId, error);
      }
    },
  };
}
