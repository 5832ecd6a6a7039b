export type { StridedView } from "./access.ts";
export { readNumbers, stridedOffsets, writeNumbers } from "./access.ts";
export { enableGrad, isGradEnabled, noGrad } from "./autograd/grad-mode.ts";
export { keep, scope } from "./autograd/scope.ts";

import "./autograd/engine.ts";

export * from "./backends/index.ts";
export type { DType, TypedArray } from "./dtype.ts";
export {
  bf16BitsToFloat,
  DTYPE_BYTES,
  DTYPES,
  f16BitsToFloat,
  floatToBf16Bits,
  floatToF16Bits,
  isDType,
  isFloating,
  promoteTypes,
  SAFETENSORS_DTYPE,
} from "./dtype.ts";
export { ERROR_CODES, type ErrorCode, HearthTensorError } from "./errors.ts";
export { allocate, apply, apply1 } from "./ops/apply.ts";
export * from "./ops/creation/fill.ts";
export * from "./ops/creation/random.ts";
export * from "./ops/creation/range.ts";
export * from "./ops/creation/tensor.ts";
export { PRIMITIVE_NAMES, PRIMITIVES, type Primitive } from "./ops/primitives.ts";
export { Generator, manualSeed } from "./random/generator.ts";
export * as safetensors from "./safetensors/index.ts";
export {
  loadFile,
  loadModel,
  openCheckpoint,
  SafetensorsError,
  safeOpen,
  saveFile,
  saveModel,
  saveSharded,
} from "./safetensors/index.ts";
export { liveStorages, Storage } from "./storage.ts";
export { type DataArray, type NestedList, Tensor } from "./tensor.ts";
