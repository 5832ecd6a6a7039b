/**
 * Storage: one buffer of elements of one dtype, shared by a tensor and all its views.
 *
 * Storages are reference counted by the tensors that hold them, so `dispose()` on a view never
 * frees memory that the base tensor still uses. The live count is observable
 * ({@link liveStorages}) so tests can prove a loop does not leak.
 */
import { DTYPE_BYTES, type DType, type TypedArray, typedArrayFor } from "./dtype.ts";
import { HearthTensorError } from "./errors.ts";

/** Frees a buffer (native allocators); absent for garbage-collected ArrayBuffers. */
export type FreeFn = (buffer: ArrayBufferLike) => void;

let live = 0;

/** Number of storages created and not yet released. */
export function liveStorages(): number {
  return live;
}

export class Storage {
  /** The elements, as the dtype's typed array (see `dtype.ts`). */
  private _data: TypedArray | null;
  readonly dtype: DType;
  /** Number of elements. */
  readonly length: number;
  /** Name of the device the memory lives on ("cpu" for ArrayBuffer-backed storage). */
  readonly device: string;
  private refs = 0;
  private readonly free: FreeFn | undefined;
  /**
   * Bumped by every in-place write through the engine (`copy_`, optimiser steps, gradcheck's
   * probes): data derived from the elements and cached for reuse (the cpu backend's pre-packed
   * GEMM weights) is valid for one version only. Code that writes into a view's `data` array
   * directly must call {@link bumpVersion} afterwards.
   */
  version = 0;
  /** Data derived from the elements and kept with them (see {@link derived}); freed with them. */
  private _derived: Map<string, { dispose(): void }> | null = null;

  constructor(data: TypedArray, dtype: DType, device = "cpu", free?: FreeFn, length = data.length) {
    this._data = data;
    this.dtype = dtype;
    this.length = length;
    this.device = device;
    this.free = free;
    live++;
  }

  /**
   * Storage on the "meta" device: a dtype and a length but no memory (big-model loading builds
   * models of these, then swaps real tensors in). Reading its data throws.
   */
  static meta(dtype: DType, length: number): Storage {
    return new Storage(typedArrayFor(dtype, new ArrayBuffer(0), 0, 0), dtype, "meta", undefined, length);
  }

  /** Wraps `length` elements of `buffer` at `byteOffset` without copying. */
  static fromBuffer(buffer: ArrayBufferLike, dtype: DType, byteOffset: number, length: number, free?: FreeFn): Storage {
    return new Storage(typedArrayFor(dtype, buffer, byteOffset, length), dtype, "cpu", free);
  }

  /** Allocates zeroed storage of `length` elements with `allocate(nbytes)`. */
  static allocate(
    allocate: (nbytes: number) => ArrayBufferLike,
    dtype: DType,
    length: number,
    device = "cpu",
    free?: FreeFn,
  ): Storage {
    const buffer = allocate(length * DTYPE_BYTES[dtype]);
    return new Storage(typedArrayFor(dtype, buffer, 0, length), dtype, device, free);
  }

  get data(): TypedArray {
    if (this._data === null) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_DISPOSED",
        "tensor: the tensor's storage was disposed; it cannot be read",
      );
    }
    return this._data;
  }

  get disposed(): boolean {
    return this._data === null;
  }

  /** Marks the elements as changed (see {@link version}). */
  bumpVersion(): void {
    this.version++;
  }

  /**
   * Data a backend derives from the elements and keeps for reuse while the storage lives (the
   * cpu backend's pre-packed GEMM weights), by key; each entry is disposed when the storage is
   * released. Entries must check {@link version} themselves.
   */
  derived(): Map<string, { dispose(): void }> {
    this._derived ??= new Map();
    return this._derived;
  }

  retain(): void {
    this.refs++;
  }

  /** Drops one holder; the memory is released when the last holder lets go. */
  release(): void {
    if (this._data === null) return;
    this.refs--;
    if (this.refs <= 0) {
      const buffer = this._data.buffer;
      this._data = null;
      live--;
      if (this._derived) for (const d of this._derived.values()) d.dispose();
      this._derived = null;
      this.free?.(buffer);
    }
  }
}
