export { type ErrorCode, ErrorCodes, HearthTransformersError } from "./errors.ts";
export * from "./tokenizers/index.ts";
