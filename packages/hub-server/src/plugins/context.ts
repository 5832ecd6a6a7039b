import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import type { UrlSigner } from "../auth/credentials.ts";
import type { HubDatabase } from "../db/types.ts";
import type { DownloadCounter } from "../repos/download-counter.ts";
import type { Caller, RepoService } from "../repos/service.ts";
import type { SpaceManager } from "../spaces/manager.ts";
import type { BlobStore } from "../storage/blob-store.ts";

/** Everything route plugins share, reachable as `app.hub`. */
export interface HubContext {
  db: HubDatabase;
  blobs: BlobStore;
  repos: RepoService;
  signer: UrlSigner;
  downloads: DownloadCounter;
  dataDir: string;
  /** Fixed public base URL (no trailing slash), or undefined to derive it from each request. */
  publicUrl: string | undefined;
  /** The Spaces runtime; undefined when the hub was built with `spaces: false`. */
  spaces?: SpaceManager;
  /** Base URL clients reached us at: `publicUrl`, else `<protocol>://<Host>`. */
  baseUrl(req: FastifyRequest): string;
}

declare module "fastify" {
  interface FastifyInstance {
    hub: HubContext;
  }
  interface FastifyRequest {
    caller: Caller | undefined;
    /** Set when an Authorization header was present but did not match any token. */
    badCredentials: boolean;
  }
}

/** Decorates the app with the shared {@link HubContext}. */
export const contextPlugin = fp(
  async (app: FastifyInstance, opts: { hub: Omit<HubContext, "baseUrl"> }) => {
    const hub: HubContext = {
      ...opts.hub,
      baseUrl(req) {
        return this.publicUrl ?? `${req.protocol}://${req.host}`;
      },
    };
    app.decorate("hub", hub);
  },
  { name: "hearth-context" },
);
