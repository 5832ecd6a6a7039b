/**
 * The Tensor: storage + dtype + shape + strides + offset, plus its autograd fields. Kept thin:
 * op methods (`add`, `matmul`, `reshape`, …) are attached by `ops/methods.ts`.
 */
import { readNumbers, type StridedView, stridedOffsets } from "./access.ts";
import { DTYPE_BYTES, type DType, isFloating, type TypedArray } from "./dtype.ts";
import { HearthTensorError } from "./errors.ts";
import { contiguousStrides, fmt, isContiguous, numel, type Shape } from "./shape.ts";
import type { Storage } from "./storage.ts";

/** Links an op output to the tape node that produced it. */
export interface GradFn {
  readonly node: TapeNode;
  readonly index: number;
}

/** One recorded op on the autograd tape. */
export interface TapeNode {
  readonly op: string;
  inputs: Tensor[];
  outputs: Tensor[];
  readonly attrs: unknown;
  /** Which inputs need a gradient. */
  readonly needs: readonly boolean[];
}

/** Values `dataSync()` returns: the dtype's array, with 16-bit floats decoded to Float32Array. */
export type DataArray = Float32Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/** Nested arrays of numbers (booleans for bool tensors). */
export type NestedList = number | boolean | NestedList[];

type ScopeList = Tensor[];
const scopes: ScopeList[] = [];

/** @internal Used by `scope()`: starts collecting every tensor created. */
export function pushScope(): ScopeList {
  const list: ScopeList = [];
  scopes.push(list);
  return list;
}

/** @internal The innermost scope's list, if any. */
export function currentScope(): ScopeList | undefined {
  return scopes[scopes.length - 1];
}

/** @internal Stops collecting for the innermost scope. */
export function popScope(): void {
  scopes.pop();
}

/** Options of `backward()`. */
export interface BackwardOptions {
  /** Keep the tape so `backward()` can run through it again (default false: it is released). */
  retainGraph?: boolean;
}

type BackwardImpl = (t: Tensor, grad: Tensor | undefined, opts: BackwardOptions) => void;
let backwardImpl: BackwardImpl | null = null;

/** @internal The autograd engine installs itself here (avoids an import cycle). */
export function setBackwardImpl(fn: BackwardImpl): void {
  backwardImpl = fn;
}

export class Tensor {
  readonly storage: Storage;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Element strides (0 for broadcast dims). */
  readonly strides: readonly number[];
  /** Offset of element [0,…,0] in the storage, in elements. */
  readonly offset: number;
  /** Whether gradients flow to this tensor. Set with `requiresGrad_()`. */
  requiresGrad = false;
  /** Accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The tape node that produced this tensor (null for leaves). */
  gradFn: GradFn | null = null;
  private _disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, `fromBuffer`, …) instead. */
  constructor(storage: Storage, shape: Shape, strides?: Shape, offset = 0) {
    this.storage = storage;
    this.dtype = storage.dtype;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    storage.retain();
    scopes[scopes.length - 1]?.push(this);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** Name of the device holding the storage ("cpu"). */
  get device(): string {
    return this.storage.device;
  }

  /** Whether this tensor was made by an op rather than by the user (has a tape node). */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  get disposed(): boolean {
    return this._disposed || this.storage.disposed;
  }

  /** Whether elements are laid out row-major without gaps (views may not be). */
  isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }

  /** The view as kernels see it. */
  view_(): StridedView {
    if (this.disposed) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_DISPOSED",
        `tensor: a ${this.describe()} tensor was used after dispose()`,
      );
    }
    if (this.storage.device === "meta") {
      throw new HearthTensorError(
        "HEARTH_TENSOR_META",
        `tensor: a ${this.describe()} tensor on the meta device has no data; load real weights into it first`,
      );
    }
    return {
      dtype: this.dtype,
      shape: this.shape,
      strides: this.strides,
      offset: this.offset,
      data: this.storage.data,
      storage: this.storage,
    };
  }

  /** `float32[2, 3]`, for messages. */
  describe(): string {
    return `${this.dtype}${fmt(this.shape)}`;
  }

  /**
   * Marks this leaf as needing a gradient (floating dtypes only). Returns `this`.
   *
   * @example
   * const w = randn([3, 3]).requiresGrad_();
   */
  requiresGrad_(flag = true): this {
    if (flag && !isFloating(this.dtype)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_GRAD",
        `requiresGrad_: only floating tensors can require gradients, got ${this.describe()}`,
      );
    }
    if (!flag && this.gradFn !== null) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_GRAD",
        "requiresGrad_: cannot turn off gradients of a non-leaf tensor; use detach()",
      );
    }
    this.requiresGrad = flag;
    return this;
  }

  /**
   * Back-propagates from this tensor, accumulating into the `.grad` of leaves that require it.
   * With no argument the tensor must hold one element (a loss).
   */
  backward(grad?: Tensor, opts: BackwardOptions = {}): void {
    if (!backwardImpl) throw new HearthTensorError("HEARTH_TENSOR_GRAD", "backward: autograd engine not loaded");
    backwardImpl(this, grad, opts);
  }

  /** A tensor sharing this one's storage, cut from the tape (no gradient flows through it). */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * The elements in row-major order as a fresh array (16-bit floats decoded to Float32Array).
   * CPU only; use `await data()` for code that must also run on GPU backends.
   */
  dataSync(): DataArray {
    const v = this.view_();
    const n = this.size;
    switch (this.dtype) {
      case "float16":
      case "bfloat16":
        return Float32Array.from(readNumbers(v));
      default: {
        const src = v.data as Exclude<TypedArray, Uint16Array>;
        if (this.isContiguous()) return src.slice(this.offset, this.offset + n) as DataArray;
        const offs = stridedOffsets(this.shape, this.strides, this.offset);
        const out = new (src.constructor as new (n: number) => DataArray)(n);
        for (let i = 0; i < n; i++) out[i] = src[offs[i] as number] as never;
        return out;
      }
    }
  }

  /** The elements in row-major order (see `dataSync`). */
  async data(): Promise<DataArray> {
    return this.dataSync();
  }

  /** Nested arrays of numbers (int64 as numbers, bool as booleans). */
  tolistSync(): NestedList {
    const flat = this.dataSync();
    const isBool = this.dtype === "bool";
    const at = (i: number): number | boolean => {
      const x = flat[i] as number | bigint;
      return isBool ? x !== 0 : Number(x);
    };
    const build = (dim: number, start: number): NestedList => {
      if (dim === this.ndim) return at(start);
      const size = this.shape[dim] as number;
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: size }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  /** Nested arrays of numbers (int64 as numbers, bool as booleans). */
  async tolist(): Promise<NestedList> {
    return this.tolistSync();
  }

  /** The single element as a number. */
  item(): number {
    if (this.size !== 1) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `item: the tensor must have exactly one element, got ${this.describe()}`,
      );
    }
    return Number(this.dataSync()[0]);
  }

  /**
   * The raw little-endian bytes in row-major order (safetensors layout). Zero-copy when the
   * tensor is contiguous, a copy otherwise.
   */
  bytes(): Uint8Array {
    const v = this.view_();
    const bpe = DTYPE_BYTES[this.dtype];
    if (this.isContiguous()) {
      return new Uint8Array(v.data.buffer, v.data.byteOffset + this.offset * bpe, this.size * bpe);
    }
    const offs = stridedOffsets(this.shape, this.strides, this.offset);
    const src = new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
    const out = new Uint8Array(this.size * bpe);
    for (let i = 0; i < offs.length; i++)
      out.set(src.subarray((offs[i] as number) * bpe, ((offs[i] as number) + 1) * bpe), i * bpe);
    return out;
  }

  /**
   * Releases this tensor's hold on its storage; the memory goes when the last tensor sharing it
   * is disposed. Using the tensor afterwards throws `HEARTH_TENSOR_DISPOSED`.
   */
  dispose(): void {
    if (this._disposed) return;
    this._disposed = true;
    this.gradFn = null;
    this.storage.release();
  }

  toString(): string {
    return `Tensor(${this.describe()})`;
  }
}
