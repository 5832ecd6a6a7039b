export { type BuildAppOptions, buildApp, defaultLimits } from "./app.ts";
export type { HubDatabase } from "./db/types.ts";
export { HubServerError, type HubServerErrorCode, HubServerErrorCodes } from "./errors.ts";
export type { HubLimits } from "./repos/service.ts";
export type { BlobStore } from "./storage/blob-store.ts";
export { LocalBlobStore } from "./storage/local-blob-store.ts";
