/**
 * Coded errors of `@hearth/datasets`. Every thrown error is a {@link DatasetsError} whose `code`
 * is one of {@link ERROR_CODES}; `docs/errors/datasets.md` lists the same codes (a test checks).
 */

/** Every error code this package throws, with a one-line meaning. */
export const ERROR_CODES = {
  HEARTH_DATASETS_FILE_NOT_FOUND: "a data file, folder or saved dataset does not exist",
  HEARTH_DATASETS_UNKNOWN_FORMAT: "a file extension or builder name that no loader reads",
  HEARTH_DATASETS_CSV_RAGGED: "a CSV row has a different number of fields than the header",
  HEARTH_DATASETS_CSV_SYNTAX: "a CSV file has an unterminated quoted field",
  HEARTH_DATASETS_JSON_SYNTAX: "a JSON or JSON Lines file does not parse (the message names the line)",
  HEARTH_DATASETS_JSON_SHAPE: "a JSON document is not a list of objects, an object of columns, or has no such field",
  HEARTH_DATASETS_SCHEMA_CONFLICT: "files or batches disagree on a column's type or on the set of columns",
  HEARTH_DATASETS_PARQUET_CORRUPT: "a Parquet file has a bad magic number or footer",
  HEARTH_DATASETS_ARROW_CORRUPT: "an Arrow IPC file does not parse",
  HEARTH_DATASETS_COLUMN_NOT_FOUND: "a column name that the dataset does not have",
  HEARTH_DATASETS_COLUMN_EXISTS: "adding or renaming to a column name that already exists",
  HEARTH_DATASETS_INDEX_OUT_OF_RANGE: "a row index outside [0, numRows)",
  HEARTH_DATASETS_BAD_ARGUMENT: "an option or argument with a wrong type or value",
  HEARTH_DATASETS_BAD_FEATURE: "a feature description that is malformed or does not fit the data",
  HEARTH_DATASETS_CAST_FAILED: "a value that cannot be cast to the requested feature type",
  HEARTH_DATASETS_MAP_FAILED: "the user function of map/filter threw or returned a bad shape",
  HEARTH_DATASETS_WORKER_FAILED: "a map worker thread failed or its function could not be rebuilt",
  HEARTH_DATASETS_SPLIT_NOT_FOUND: "a requested split that the dataset does not have",
  HEARTH_DATASETS_NOT_A_SAVED_DATASET: "loadFromDisk on a folder without state.json/dataset_info.json",
  HEARTH_DATASETS_HUB_UNAVAILABLE: "a hub repository was requested but no resolver can fetch it",
  HEARTH_DATASETS_DECODE_FAILED: "an image or audio value that cannot be decoded",
  HEARTH_DATASETS_STATE_MISMATCH: "a streaming resume state that does not belong to this pipeline",
} as const;

/** A stable error code, `HEARTH_DATASETS_<WHAT>`. */
export type DatasetsErrorCode = keyof typeof ERROR_CODES;

/** The error every function of this package throws. `code` is stable across versions. */
export class DatasetsError extends Error {
  readonly code: DatasetsErrorCode;
  constructor(code: DatasetsErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DatasetsError";
    this.code = code;
  }
}

/** Shorthand: `throw fail("HEARTH_DATASETS_BAD_ARGUMENT", "select: ...")`. */
export function fail(code: DatasetsErrorCode, message: string, cause?: unknown): DatasetsError {
  return new DatasetsError(code, message, cause === undefined ? undefined : { cause });
}
