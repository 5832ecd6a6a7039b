/** Tensors from JS values and from existing memory. */
import { writeNumbers } from "../../access.ts";
import { checkDType, DTYPE_BYTES, type DType, type TypedArray } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { checkShape, fmt, numel } from "../../shape.ts";
import { type FreeFn, Storage } from "../../storage.ts";
import { Tensor } from "../../tensor.ts";
import { allocate } from "../apply.ts";

/** Nested arrays of numbers, booleans or bigints. */
export type TensorData = number | boolean | bigint | readonly TensorData[];

/** Options shared by creation functions. */
export interface CreateOptions {
  dtype?: DType;
  requiresGrad?: boolean;
}

function dtypeOfTyped(a: ArrayBufferView): DType {
  if (a instanceof Float32Array || a instanceof Float64Array) return "float32";
  if (a instanceof Int32Array) return "int32";
  if (a instanceof BigInt64Array) return "int64";
  if (a instanceof Uint8Array) return "uint8";
  if (a instanceof Int8Array) return "int8";
  throw new HearthTensorError("HEARTH_TENSOR_DTYPE", `tensor: unsupported typed array ${a.constructor.name}`);
}

function finish(t: Tensor, opts: CreateOptions | undefined): Tensor {
  if (opts?.requiresGrad) t.requiresGrad_();
  return t;
}

/**
 * A tensor holding a copy of `data`: nested arrays (numbers → float32, booleans → bool,
 * bigints → int64 unless `dtype` says otherwise) or a flat typed array with `shape`.
 *
 * @example
 * const x = tensor([[1, 2], [3, 4]]);             // float32[2, 2]
 * const ids = tensor([1, 5, 7], { dtype: "int64" });
 */
export function tensor(data: TensorData | ArrayBufferView, opts?: CreateOptions & { shape?: number[] }): Tensor {
  if (ArrayBuffer.isView(data)) {
    const dtype = opts?.dtype ? checkDType("tensor", "dtype", opts.dtype) : dtypeOfTyped(data);
    const flat = data as unknown as ArrayLike<number | bigint>;
    const shape = opts?.shape ? checkShape("tensor", "shape", opts.shape) : [flat.length];
    if (numel(shape) !== flat.length) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `tensor: argument 'shape' ${fmt(shape)} needs ${numel(shape)} elements, got ${flat.length}`,
      );
    }
    const t = allocate(shape, dtype);
    fill(t, flat);
    return finish(t, opts);
  }
  const shape: number[] = [];
  let probe: TensorData = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = (probe as readonly TensorData[])[0] as TensorData;
  }
  const flat: (number | boolean | bigint)[] = [];
  const walk = (v: TensorData, dim: number, path: string) => {
    if (dim === shape.length) {
      if (Array.isArray(v) || (typeof v !== "number" && typeof v !== "boolean" && typeof v !== "bigint")) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `tensor: element ${path} must be a number, got ${JSON.stringify(v)}`,
        );
      }
      flat.push(v as number);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim]) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `tensor: argument 'data' is ragged: ${path} should have ${shape[dim]} elements, got ${Array.isArray(v) ? v.length : "a scalar"}`,
      );
    }
    v.forEach((x, i) => {
      walk(x, dim + 1, `${path}[${i}]`);
    });
  };
  walk(data, 0, "data");
  const first = flat[0];
  const inferred: DType = typeof first === "boolean" ? "bool" : typeof first === "bigint" ? "int64" : "float32";
  const dtype = opts?.dtype ? checkDType("tensor", "dtype", opts.dtype) : inferred;
  const t = allocate(shape, dtype);
  fill(t, flat);
  return finish(t, opts);
}

function fill(t: Tensor, flat: ArrayLike<number | bigint | boolean>): void {
  if (t.device === "meta") return; // under onMetaDevice: shape only
  const d = t.view_().data;
  if (t.dtype !== "bool" && ArrayBuffer.isView(flat) && flat.constructor === d.constructor) {
    // The dtype's own array kind (a Float32Array for float32, …): the values as they are.
    d.set(flat as never);
    return;
  }
  if (t.dtype === "int64") {
    const out = d as BigInt64Array;
    for (let i = 0; i < flat.length; i++) {
      const v = flat[i] as number | bigint | boolean;
      out[i] = typeof v === "bigint" ? v : BigInt(Math.trunc(Number(v)));
    }
    return;
  }
  const nums = new Float64Array(flat.length);
  for (let i = 0; i < flat.length; i++) nums[i] = Number(flat[i]);
  writeNumbers(d, t.dtype, nums);
}

/** A 0-d tensor. */
export function scalar(value: number, dtype: DType = "float32"): Tensor {
  const t = allocate([], dtype);
  if (t.device !== "meta") writeNumbers(t.view_().data, dtype, [value]);
  return t;
}

/** Options of {@link fromBuffer}. */
export interface FromBufferOptions {
  /** Byte offset of element 0 in `buffer` (default 0). Must be a multiple of the element size. */
  byteOffset?: number;
  /** Element strides (default row-major). */
  strides?: number[];
  /** Called when the last tensor sharing the memory is disposed (e.g. to unmap). */
  free?: FreeFn;
  /** Copy instead of throwing when `byteOffset` is misaligned for the dtype. */
  copyIfMisaligned?: boolean;
}

/**
 * A tensor over existing memory, without copying: `buffer` (an ArrayBuffer, e.g. a mapped
 * safetensors file) or a typed array's bytes. The tensor reads and writes that memory.
 *
 * @example
 * const file = mapFile("model.safetensors");
 * const w = fromBuffer(file, "bfloat16", [64, 64], { byteOffset: 8 + headerLen + begin });
 */
export function fromBuffer(
  buffer: ArrayBufferLike | ArrayBufferView,
  dtype: DType,
  shape: number[],
  opts: FromBufferOptions = {},
): Tensor {
  checkDType("fromBuffer", "dtype", dtype);
  checkShape("fromBuffer", "shape", shape);
  let buf: ArrayBufferLike;
  let base = 0;
  if (ArrayBuffer.isView(buffer)) {
    buf = buffer.buffer;
    base = buffer.byteOffset;
  } else buf = buffer;
  const bpe = DTYPE_BYTES[dtype];
  const byteOffset = base + (opts.byteOffset ?? 0);
  const strides = opts.strides;
  let span = numel(shape);
  if (strides) {
    if (strides.length !== shape.length) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_ARGUMENT",
        `fromBuffer: argument 'strides' must have ${shape.length} entries, got ${strides.length}`,
      );
    }
    span = span === 0 ? 0 : 1 + shape.reduce((acc, s, i) => acc + (s - 1) * (strides[i] as number), 0);
  }
  if (byteOffset < 0 || byteOffset + span * bpe > buf.byteLength) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_BUFFER",
      `fromBuffer: ${dtype}${fmt(shape)} needs ${span * bpe} bytes at byte ${byteOffset}, but the buffer has ${buf.byteLength} bytes`,
    );
  }
  if (byteOffset % bpe !== 0) {
    if (!opts.copyIfMisaligned) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_BUFFER",
        `fromBuffer: byte offset ${byteOffset} is not a multiple of ${bpe} (the size of ${dtype}); pass copyIfMisaligned: true to copy`,
      );
    }
    const copy = new ArrayBuffer(span * bpe);
    new Uint8Array(copy).set(new Uint8Array(buf, byteOffset, span * bpe));
    return new Tensor(Storage.fromBuffer(copy, dtype, 0, span), shape, strides, 0);
  }
  const storage = Storage.fromBuffer(buf, dtype, byteOffset, span, opts.free);
  return new Tensor(storage, shape, strides, 0);
}

/** The typed array backing a contiguous tensor's elements (zero-copy; writes go to the tensor). */
export function storageArray(t: Tensor): TypedArray {
  const v = t.view_();
  return v.data.subarray(t.offset, t.offset + t.size) as TypedArray;
}
