/**
 * The backend interface. A backend is one object: an allocator, a kernel table of `{op, fn}`
 * records keyed by the camelCase primitive name (see `../ops/primitives.ts`), and
 * `synchronize()`. Op semantics (shape/dtype inference, validation, gradients) never live here.
 * See `README.md` in this folder for how to write one.
 */
import type { StridedView } from "../access.ts";
import type { FreeFn } from "../storage.ts";

/** What a kernel receives. */
export interface KernelArgs<A = Record<string, unknown>> {
  /**
   * Input views. Elementwise ops get inputs already broadcast to the output shape (stride 0
   * along broadcast dims); other ops get the inputs as the user passed them. Strides and
   * offset are arbitrary unless the record sets `contiguousInputs`.
   */
  readonly inputs: readonly StridedView[];
  /** Freshly allocated, zero-filled, contiguous outputs (offset 0) with inferred shape/dtype. */
  readonly outputs: readonly StridedView[];
  /** The op's attributes, already validated and normalised (dims non-negative, sorted). */
  readonly attrs: A;
}

/** A kernel: computes `outputs` from `inputs` synchronously (or enqueues the work). */
export type KernelFn<A = Record<string, unknown>> = (args: KernelArgs<A>) => void;

/** One entry of a backend's kernel table. */
export interface KernelRecord {
  /** The primitive's camelCase name, exactly as in `primitives.ts`. */
  readonly op: string;
  // biome-ignore lint/suspicious/noExplicitAny: each kernel has its own attribute type
  readonly fn: KernelFn<any>;
  /** When true the dispatcher hands this kernel row-major contiguous inputs with offset 0. */
  readonly contiguousInputs?: boolean;
  /**
   * When true the kernel writes every element of every output, so the dispatcher may hand it
   * outputs that are not zero-filled (no memset of recycled memory).
   */
  readonly writesAll?: boolean;
}

/** Allocates device memory for storages. */
export interface Allocator {
  /** Zero-filled memory of `nbytes` bytes. */
  allocate(nbytes: number, zero?: boolean): ArrayBufferLike;
  /** Releases memory returned by `allocate` (called by `dispose()`); omit for GC-managed memory. */
  free?: FreeFn;
}

/** A backend. */
export interface Backend {
  /** Short name used by `setBackend` ("js", "cpu"). */
  readonly name: string;
  /** The device its storages live on; "cpu" backends share ArrayBuffer storage. */
  readonly device: string;
  readonly allocator: Allocator;
  readonly kernels: readonly KernelRecord[];
  /** Waits for queued work (a no-op on synchronous CPU backends). */
  synchronize(): void;
}
