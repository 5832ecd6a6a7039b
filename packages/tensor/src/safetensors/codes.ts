/**
 * The safetensors error codes with one line each; `../errors.ts` merges them into the package's
 * `ERROR_CODES`. Kept free of imports so that merge has no import cycle.
 */
export const SAFETENSORS_ERROR_CODES = {
  HEARTH_SAFETENSORS_TRUNCATED:
    "A safetensors file ends before its 8-byte header length or before the tensor data its header describes.",
  HEARTH_SAFETENSORS_HEADER_LENGTH:
    "A safetensors header length is larger than the file, above the 100 MB limit, or too small for JSON.",
  HEARTH_SAFETENSORS_HEADER_ENCODING: "A safetensors header is not valid UTF-8.",
  HEARTH_SAFETENSORS_HEADER_NOT_JSON: "A safetensors header is not JSON, or not a JSON object.",
  HEARTH_SAFETENSORS_DUPLICATE_KEY: "A safetensors header names a tensor (or a field of an entry) twice.",
  HEARTH_SAFETENSORS_BAD_ENTRY:
    "A safetensors tensor entry is not {dtype, shape, data_offsets} with the right JSON types.",
  HEARTH_SAFETENSORS_UNKNOWN_DTYPE: "A safetensors tensor has a dtype this reader does not know.",
  HEARTH_SAFETENSORS_BAD_METADATA: "A safetensors __metadata__ is not an object of strings.",
  HEARTH_SAFETENSORS_OFFSETS_OVERLAP: "Two safetensors byte ranges overlap, or a range ends before it begins.",
  HEARTH_SAFETENSORS_OFFSETS_GAP:
    "safetensors byte ranges do not start at 0, leave a hole, or stop before the end of the file.",
  HEARTH_SAFETENSORS_OFFSETS_OUT_OF_RANGE: "A safetensors offset or tensor byte size is above 2^53 - 1.",
  HEARTH_SAFETENSORS_SIZE_MISMATCH: "A safetensors tensor's shape × dtype size differs from its byte range.",
  HEARTH_SAFETENSORS_TENSOR_NOT_FOUND: "A safetensors file or checkpoint has no tensor of the requested name.",
  HEARTH_SAFETENSORS_BAD_CONVERSION: "A safetensors dtype cannot be converted to the requested dtype.",
  HEARTH_SAFETENSORS_BAD_INPUT:
    "The safetensors writer got a bad tensor name, dtype, shape, data length, metadata value or size string.",
  HEARTH_SAFETENSORS_BAD_INDEX:
    "A model.safetensors.index.json is not JSON, lacks a weight_map of file names, or points outside its folder.",
  HEARTH_SAFETENSORS_SHARD_MISSING: "A sharded checkpoint's index names a shard file that does not exist.",
  HEARTH_SAFETENSORS_SHARD_MISMATCH: "A sharded checkpoint's index puts a tensor in a shard that does not hold it.",
  HEARTH_SAFETENSORS_STATE_DICT_MISMATCH:
    "Loading a checkpoint into tensors found missing or unexpected names (strict) or mismatched shapes.",
  HEARTH_SAFETENSORS_IO: "A safetensors file could not be opened, read or written.",
} as const;
