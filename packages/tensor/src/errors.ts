/**
 * Error codes of `@hearth/tensor`. Every error the package throws carries one of these codes;
 * `docs/errors/tensor.md` lists them (a test keeps the two in step).
 */

import { SAFETENSORS_ERROR_CODES } from "./safetensors/codes.ts";

/** Stable error codes and what they mean. */
export const ERROR_CODES = {
  HEARTH_TENSOR_SHAPE: "Shapes do not fit the op (broadcast, matmul inner sizes, reshape sizes, concatenation).",
  HEARTH_TENSOR_DTYPE: "A dtype is unknown or not supported by the op.",
  HEARTH_TENSOR_ARGUMENT: "An argument has the wrong type or an out-of-range value (dim, size, probability).",
  HEARTH_TENSOR_INDEX: "An index tensor holds a value outside the indexed dimension.",
  HEARTH_TENSOR_NO_KERNEL: "The active backend has no kernel for a primitive op.",
  HEARTH_TENSOR_BACKEND: "A backend name is unknown, or tensors from different devices were mixed.",
  HEARTH_TENSOR_BUFFER: "A buffer handed to fromBuffer is too small or misaligned for the dtype.",
  HEARTH_TENSOR_NOT_CONTIGUOUS: "A view was asked of memory that cannot give it without a copy.",
  HEARTH_TENSOR_DISPOSED: "A tensor was used after dispose().",
  HEARTH_TENSOR_META: "The data of a meta-device tensor (shape and dtype only, no memory) was read.",
  HEARTH_TENSOR_GRAD: "backward() was called where no gradient can flow, or without a needed gradient.",
  HEARTH_NN_STATE_DICT: "loadStateDict found missing or unexpected keys or mismatched shapes.",
  HEARTH_NN_ARGUMENT: "A module was built or called with a wrong argument.",
  HEARTH_OPTIM_ARGUMENT: "An optimiser or schedule was given a wrong hyper-parameter.",
  HEARTH_OPTIM_STATE: "An optimiser state to load does not match the optimiser's parameters.",
  ...SAFETENSORS_ERROR_CODES,
} as const;

/** One of {@link ERROR_CODES}' keys. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The error type every `@hearth/tensor` function throws. */
export class HearthTensorError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "HearthTensorError";
    this.code = code;
  }
}
