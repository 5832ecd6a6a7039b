export { writeFileAtomic } from "./atomic.ts";
export {
  bfloat16ToFloat,
  DTYPES,
  FLOAT_DTYPES,
  halfToFloat,
  isSafetensorsDtype,
  type RawTypedArray,
  type SafetensorsDtype,
  toFloat32,
  viewAs,
} from "./dtypes.ts";
export { SafetensorsError, SafetensorsErrorCode, type SafetensorsErrorCodeValue } from "./errors.ts";
export { MAX_HEADER_BYTES, parseHeader, type SafetensorsHeader, type TensorInfo } from "./header.ts";
export {
  deserialize,
  loadFileRaw,
  type RawTensor,
  SafetensorsFile,
  safeOpen,
  safeOpenSync,
  type TensorSource,
} from "./open.ts";
export { prepare, saveFile, serialize, type TensorData, type TensorMap } from "./serialize.ts";
export {
  openCheckpoint,
  openSharded,
  parseSize,
  SAFE_WEIGHTS_INDEX_NAME,
  SAFE_WEIGHTS_NAME,
  type SavedCheckpoint,
  type SaveShardedOptions,
  ShardedCheckpoint,
  type ShardIndex,
  saveSharded,
} from "./sharded.ts";
