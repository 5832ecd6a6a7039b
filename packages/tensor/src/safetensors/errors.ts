/**
 * Error codes of the safetensors reader and writer. Every error thrown from `src/safetensors/` is a
 * {@link SafetensorsError} carrying one of these codes; `docs/errors/tensor.md` lists them (a test
 * keeps the two in agreement).
 */

/** Stable codes, one per failure a caller may want to tell apart. */
export const SafetensorsErrorCode = {
  /** The file ends before the 8-byte header length, or before the tensor data the header describes. */
  TRUNCATED: "HEARTH_SAFETENSORS_TRUNCATED",
  /** The header length prefix is larger than the file, larger than the 100 MB limit, or too small for JSON. */
  HEADER_LENGTH: "HEARTH_SAFETENSORS_HEADER_LENGTH",
  /** The header bytes are not valid UTF-8. */
  HEADER_NOT_UTF8: "HEARTH_SAFETENSORS_HEADER_NOT_UTF8",
  /** The header is not JSON, or not a JSON object. */
  HEADER_NOT_JSON: "HEARTH_SAFETENSORS_HEADER_NOT_JSON",
  /** A JSON object in the header names the same key twice. */
  DUPLICATE_KEY: "HEARTH_SAFETENSORS_DUPLICATE_KEY",
  /** A tensor entry is not `{dtype, shape, data_offsets}` with the right JSON types. */
  BAD_ENTRY: "HEARTH_SAFETENSORS_BAD_ENTRY",
  /** A tensor's dtype is not one this reader knows. */
  UNKNOWN_DTYPE: "HEARTH_SAFETENSORS_UNKNOWN_DTYPE",
  /** `__metadata__` is not an object of string values. */
  BAD_METADATA: "HEARTH_SAFETENSORS_BAD_METADATA",
  /** Two tensors' byte ranges overlap, or a range ends before it starts. */
  OFFSETS_OVERLAP: "HEARTH_SAFETENSORS_OFFSETS_OVERLAP",
  /** The byte ranges leave a hole: they do not start at 0, skip bytes, or stop before the end of the file. */
  OFFSETS_GAP: "HEARTH_SAFETENSORS_OFFSETS_GAP",
  /** An offset or a shape product is larger than the 2^53 - 1 a JavaScript number holds exactly. */
  OFFSETS_OUT_OF_RANGE: "HEARTH_SAFETENSORS_OFFSETS_OUT_OF_RANGE",
  /** shape × dtype size is not the byte range's length. */
  SIZE_MISMATCH: "HEARTH_SAFETENSORS_SIZE_MISMATCH",
  /** A tensor name was asked for that the file (or sharded checkpoint) does not hold. */
  TENSOR_NOT_FOUND: "HEARTH_SAFETENSORS_TENSOR_NOT_FOUND",
  /** A dtype conversion that is not supported (for example a float to an integer type). */
  BAD_CONVERSION: "HEARTH_SAFETENSORS_BAD_CONVERSION",
  /** Input to the writer is invalid: bad name, dtype, shape, data length or metadata value. */
  BAD_INPUT: "HEARTH_SAFETENSORS_BAD_INPUT",
  /** `model.safetensors.index.json` is not valid JSON or lacks a `weight_map` of strings. */
  BAD_INDEX: "HEARTH_SAFETENSORS_BAD_INDEX",
  /** The index names a shard file that does not exist. */
  SHARD_MISSING: "HEARTH_SAFETENSORS_SHARD_MISSING",
  /** The index says a shard holds a tensor, but the shard does not. */
  SHARD_MISMATCH: "HEARTH_SAFETENSORS_SHARD_MISMATCH",
  /** Loading a state dict found missing or unexpected keys (with `strict`), or a shape mismatch. */
  STATE_DICT_MISMATCH: "HEARTH_SAFETENSORS_STATE_DICT_MISMATCH",
  /** The file could not be read or written (the underlying system error is the `cause`). */
  IO: "HEARTH_SAFETENSORS_IO",
} as const;

/** One of the {@link SafetensorsErrorCode} values. */
export type SafetensorsErrorCodeValue = (typeof SafetensorsErrorCode)[keyof typeof SafetensorsErrorCode];

/**
 * An error from reading or writing safetensors files.
 *
 * @example
 * try { await safeOpen("model.safetensors"); }
 * catch (e) { if (e instanceof SafetensorsError && e.code === "HEARTH_SAFETENSORS_TRUNCATED") redownload(); }
 */
export class SafetensorsError extends Error {
  /** Stable machine-readable code, `HEARTH_SAFETENSORS_*`. */
  readonly code: SafetensorsErrorCodeValue;

  constructor(code: SafetensorsErrorCodeValue, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SafetensorsError";
    this.code = code;
  }
}

/** Shorthand used throughout the module. */
export function fail(code: SafetensorsErrorCodeValue, message: string, cause?: unknown): never {
  throw new SafetensorsError(code, message, cause === undefined ? undefined : { cause });
}
