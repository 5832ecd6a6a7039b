export { writeFileAtomic } from "./atomic.ts";
export { SAFETENSORS_ERROR_CODES } from "./codes.ts";
export {
  bfloat16ToFloat,
  FLOAT_DTYPES,
  halfToFloat,
  isSafetensorsDtype,
  type RawTypedArray,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
  toFloat32,
  viewAs,
} from "./dtypes.ts";
export { SafetensorsError, SafetensorsErrorCode, type SafetensorsErrorCodeValue } from "./errors.ts";
export { MAX_HEADER_BYTES, parseHeader, type SafetensorsHeader, type TensorInfo } from "./header.ts";
export {
  deserialize,
  loadFile,
  type RawTensor,
  SafetensorsFile,
  safeOpen,
  safeOpenSync,
  type TensorSource,
} from "./open.ts";
export { prepare, type RawTensorLike, saveFile, serialize, type TensorMap } from "./serialize.ts";
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
export {
  type LoadModelOptions,
  type LoadModelResult,
  loadModel,
  type ModuleLike,
  type StateDictTarget,
  saveModel,
  sharedNames,
} from "./state-dict.ts";
export {
  defaultDtype,
  fromTensor,
  loadTensors,
  type ToTensorOptions,
  toTensor,
} from "./tensors.ts";
