export { type BuildAppOptions, buildApp, defaultLimits } from "./app.ts";
export { createUser, ensureAdmin } from "./bootstrap.ts";
export type { HubDatabase } from "./db/types.ts";
export { HubServerError, type HubServerErrorCode, HubServerErrorCodes } from "./errors.ts";
export type { HubLimits } from "./repos/service.ts";
export { seedDemo } from "./seed.ts";
export { type RunningHub, type ServeOptions, serve } from "./server.ts";
export type { BlobStore } from "./storage/blob-store.ts";
export { LocalBlobStore } from "./storage/local-blob-store.ts";
