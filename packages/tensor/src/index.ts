import "./setup.ts";

export type { StridedView } from "./access.ts";
export { readNumbers, stridedOffsets, writeNumbers } from "./access.ts";
export { enableGrad, isGradEnabled, noGrad } from "./autograd/grad-mode.ts";
export { type GradcheckOptions, type GradMismatch, gradcheck } from "./autograd/gradcheck.ts";
export { keep, scope } from "./autograd/scope.ts";

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
export * as nn from "./nn/index.ts";
export * from "./nn/index.ts";
export * from "./ops/index.ts";
export * as optim from "./optim/index.ts";
export * from "./optim/index.ts";
export { PROFILING, type ProfileTotals, profileReport, profileReset, profileTotals } from "./profile/op-profile.ts";
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
export { type BackwardOptions, type DataArray, type NestedList, Tensor } from "./tensor.ts";
