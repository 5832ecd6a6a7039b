/**
 * Pre-packed GEMM weights for inference: the B operand of a product (a layer's weight, `[K, N]`
 * or a transposed view) cut once into the micro-panels the native GEMM multiplies from, then
 * reused by every later product with it, as onnxruntime's MLAS pre-packs constant weights. A
 * 128-token prefill otherwise re-packs every weight on every call (a 768×3072 float32 weight is
 * 9.4 MB read and written per call; about a tenth of the GEMM time in float32, a third on the
 * bfloat16 AMX kernel). Likewise a transposed copy of a weight laid `[K, N]` for products of a
 * few rows (decoding: {@link transposedWeight}), under the same rules and budget.
 *
 * When a packing is made and used:
 *   - only outside autograd (`noGrad`, not inside a backward pass) and for products of at least
 *     {@link MIN_ROWS} rows against one matrix (smaller ones take the matrix-vector path, which
 *     reads the weight as it lies), or {@link MIN_BF16_ROWS} for bfloat16 weights, which the
 *     GEMM's bf16 tiles take from that many rows (a batch-8 decoding step with bf16 weights
 *     then streams the packing its prompt made: its 48 GEMMs took half the CPU time), or
 *     `gemvPackedRows()` for float32 weights where the native few-row products have a panel
 *     form that reads the packing (AVX-512: every weight of a batch-8 decoding step streamed
 *     in one sequential run per k slice and thread, 5 to 8 rows of x in registers; GPT-2 on the
 *     2-core Zen 4 host, its batch-8 step 29-32 -> 19-21 ms; see `transposedWeight` for the
 *     copy the other families use). For a weight laid `[N, K]` (a Linear's, a tied head's) that
 *     no product of 16 rows or more packed already, that is a copy the few-row products did not
 *     need before: the weight's bytes again, for a batched decoding step about twice as fast;
 *   - made on the first such product, in place of the packing that product would do anyway
 *     (a product of up to a few hundred rows packs all of B once per call), so it costs memory,
 *     not time;
 *   - only while it matches the weight: a packing belongs to one storage version (bumped by
 *     `copy_`, optimiser steps, gradcheck's probes; code writing a view's array directly must
 *     call `storage.bumpVersion()`), and as a guard against writes that skip the bump it also
 *     keeps a sample of {@link SAMPLES} of the weight's values, compared before each use;
 *   - kept with the weight's storage (`Storage.derived`) and freed when it is released, so an
 *     activation that happens to be a B operand takes its packing with it when its scope ends;
 *   - within a budget (`HEARTH_PACKED_WEIGHTS_MB`, default 2048 MiB of packed copies at once;
 *     `HEARTH_PACKED_WEIGHTS=0` turns packing off): past it, products pack per call as before.
 * The native GEMM itself ignores a packing made for another kernel family (after
 * `selectGemmKernel`), so a packing can be slow but never wrong for its matrix.
 */
import type { StridedView } from "../../access.ts";
import { isGradEnabled, isInBackward } from "../../autograd/grad-mode.ts";
import type { TypedArray } from "../../dtype.ts";
import type { NativeAddon, NativeGemmDType } from "../../native/index.ts";

/** Products with fewer rows never use a packing. */
export const MIN_ROWS = 16;
/** The same for bfloat16 products (the GEMM's bf16 tiles start at 4 rows). */
export const MIN_BF16_ROWS = 4;
/** Values of the weight sampled to catch writes that did not bump its storage's version. */
export const SAMPLES = 32;

function envFlag(): boolean {
  const v = process.env.HEARTH_PACKED_WEIGHTS;
  return v === undefined || (v !== "0" && v.toLowerCase() !== "false");
}

let enabled = envFlag();
const budget = Number(process.env.HEARTH_PACKED_WEIGHTS_MB ?? 2048) * 2 ** 20;
let packedBytes = 0;
/** Gives a packing's bytes back to the budget when its storage is collected without a release. */
const collected = new FinalizationRegistry<number>((bytes) => {
  packedBytes -= bytes;
});

/** One matrix's packing, kept in its storage's `derived()` map. */
class Packing {
  constructor(
    readonly addon: NativeAddon,
    readonly version: number,
    public buffer: ArrayBuffer | null,
    /** The weight's values at the sample positions when it was packed. */
    readonly sample: number[],
  ) {}

  dispose(): void {
    const buffer = this.buffer;
    if (!buffer) return;
    this.buffer = null;
    collected.unregister(this);
    packedBytes -= buffer.byteLength;
    this.addon.free(buffer);
  }
}

/**
 * Turns weight pre-packing on or off for this process (initially on unless
 * `HEARTH_PACKED_WEIGHTS=0`); returns the previous setting. Turning it off keeps existing
 * packings until their weights are released, but no product uses them.
 *
 * @example
 * const was = setWeightPacking(false); // measure the per-call packing path
 */
export function setWeightPacking(on: boolean): boolean {
  const was = enabled;
  enabled = on;
  return was;
}

/** Bytes of packed weights alive now (for memory reports and tests). */
export function packedWeightBytes(): number {
  return packedBytes;
}

function readSample(data: TypedArray, view: StridedView, K: number, N: number, rs: number, cs: number): number[] {
  const out: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const i = Math.floor((s * (K - 1)) / (SAMPLES - 1));
    const j = (s * 7919) % N;
    out.push(Number(data[view.offset + i * rs + j * cs]));
  }
  return out;
}

function sameSample(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => Object.is(v, b[i]));
}

/**
 * The packing of the `K×N` B at `view` (element (k, j) at `offset + k·rs + j·cs`) for a product
 * of `rows` rows, when one should be used; undefined to pack per call. Makes the packing on the
 * matrix's first eligible product at its storage version.
 */
export function packedWeight(
  addon: NativeAddon,
  view: StridedView,
  dtype: NativeGemmDType,
  rows: number,
  K: number,
  N: number,
  rs: number,
  cs: number,
): ArrayBuffer | undefined {
  if (rows < (dtype === "bfloat16" ? MIN_BF16_ROWS : MIN_ROWS) && !panelRows(addon, dtype, rows)) return undefined;
  return derivedCopy(addon, view, `gemm-packed:${dtype}`, K, N, rs, cs, addon.gemmPackedBytes(dtype, K, N), (buffer) =>
    addon.gemmPackB(dtype, K, N, view.data, view.offset, [rs, cs], buffer),
  );
}

/** True when a float32 product of `rows` rows (fewer than the GEMM's) reads B from its packing. */
function panelRows(addon: NativeAddon, dtype: NativeGemmDType, rows: number): boolean {
  // (one row never: the batch-1 products read the weight as it lies, with no call to ask)
  if (dtype !== "float32" || rows < 2 || rows > MAX_TRANSPOSED_ROWS) return false;
  const from = addon.gemvPackedRows();
  return from > 0 && rows >= from;
}

/**
 * The most rows a product multiplies from a transposed copy ({@link transposedWeight}): the
 * native matrix-vector path's limit (kGemvMaxRows); more rows take the GEMM.
 */
export const MAX_TRANSPOSED_ROWS = 8;

/** Columns of B per strided copy while transposing it. */
const TRANSPOSE_PANEL = 256;

/**
 * For a product of 2 to {@link MAX_TRANSPOSED_ROWS} rows against a `K×N` B whose rows run along N
 * (a `Conv1D` weight `[in, out]`, GPT-2's layout): a copy of B transposed, `N×K` row-major in B's
 * dtype, so the matrix-vector kernels stream it in their dot form (each output a run of K
 * contiguous weights, the rows of x in registers) instead of the axpy form (the [rows, N] output
 * tile loaded and stored for every few rows of B). On the 2-core AVX2 host, GPT-2's 48 layer
 * weights at 8 rows (float32, 2 threads, alternating in one process): 19.6-21.0 ms against
 * 30-37 in the axpy form; at 4 rows 13.8-15.1 against 23-25; at 2 rows 11.7-13.9 against
 * 13.3-20.8; one row reads about the same either way, so it gets no copy (float32 on the Zen 4
 * host, alternating in one process: 11.43 ms against 12.04, not worth the weights twice over).
 *
 * bfloat16 where the GEMM has bf16 tiles (AMX, AVX512-BF16) differs: above 3 rows the GEMM takes
 * the product (from the packing), not the matrix-vector path, so no copy; from 1 row up to 3 the
 * copy is made, one row included, since the dot form multiplies there with vdpbf16ps (one
 * instruction per 64 bytes of B) where the axpy form widens every value and loads and stores the
 * output row every four rows of B. Zen 4 host, 2 threads, both alternating in one process:
 * GPT-2's 48 layer weights at 1 row 3.86 ms against 5.29, a whole batch-1 decoding step 8.92
 * against 9.73 ms (10 pairs; the copies hold the layer matrices a second time, 170 MB).
 *
 * The copy is made on the first such product with the weight's storage version (a strided
 * native copy), under the packings' rules and budget (outside autograd, dropped when the weight
 * changes or is released). Undefined: multiply B as it lies.
 */
export function transposedWeight(
  addon: NativeAddon,
  view: StridedView,
  dtype: NativeGemmDType,
  rows: number,
  K: number,
  N: number,
  rs: number,
  cs: number,
): ArrayBuffer | undefined {
  if (rows < 1 || rows > MAX_TRANSPOSED_ROWS || cs !== 1 || rs < N || N < 2 || K < 2) return undefined;
  const bf16Tiles = dtype === "bfloat16" && addon.gemmKernel("bfloat16").endsWith("bf16");
  if (bf16Tiles ? rows > 3 : rows < 2) return undefined;
  const size = dtype === "float32" ? 4 : 2;
  return derivedCopy(addon, view, `transposed:${dtype}`, K, N, rs, cs, K * N * size, (buffer) => {
    const dst = size === 4 ? new Float32Array(buffer, 0, K * N) : new Uint16Array(buffer, 0, K * N);
    // Read along B's rows, write down the copy's columns, in panels of B's columns: the rows of
    // the copy a panel writes stay in cache from one k to the next (a 768×3072 float32 weight:
    // 4.1 ms in panels of 256 columns, 6.5 of 64, 8.7 in one copy).
    for (let j = 0; j < N; j += TRANSPOSE_PANEL) {
      const w = Math.min(TRANSPOSE_PANEL, N - j);
      addon.copy(view.data, view.offset + j * cs, [rs, cs], dst, j * K, [1, K], [K, w]);
    }
  });
}

/**
 * The copy of the matrix at `view` that `fill` writes into a `bytes`-long buffer, cached with the
 * view's storage under `kind` (see the file's comment for when it is made, used and dropped).
 */
function derivedCopy(
  addon: NativeAddon,
  view: StridedView,
  kind: string,
  K: number,
  N: number,
  rs: number,
  cs: number,
  bytes: number,
  fill: (buffer: ArrayBuffer) => void,
): ArrayBuffer | undefined {
  const storage = view.storage;
  if (!enabled || !storage || isGradEnabled() || isInBackward()) return undefined;
  const derived = storage.derived();
  const key = `${kind}:${view.offset}:${rs}:${cs}:${K}:${N}`;
  const old = derived.get(key) as Packing | undefined;
  if (
    old?.buffer &&
    old.version === storage.version &&
    sameSample(old.sample, readSample(view.data, view, K, N, rs, cs))
  ) {
    return old.buffer;
  }
  old?.dispose();
  derived.delete(key);
  if (bytes === 0 || packedBytes + bytes > budget) return undefined;
  const buffer = addon.allocate(bytes, false);
  fill(buffer);
  packedBytes += bytes;
  const p = new Packing(addon, storage.version, buffer, readSample(view.data, view, K, N, rs, cs));
  collected.register(storage, bytes, p);
  derived.set(key, p);
  return buffer;
}
