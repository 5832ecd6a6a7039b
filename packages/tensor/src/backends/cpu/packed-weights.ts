/**
 * Pre-packed GEMM weights for inference: the B operand of a product (a layer's weight, `[K, N]`
 * or a transposed view) cut once into the micro-panels the native GEMM multiplies from, then
 * reused by every later product with it, as onnxruntime's MLAS pre-packs constant weights. A
 * 128-token prefill otherwise re-packs every weight on every call (a 768×3072 float32 weight is
 * 9.4 MB read and written per call; about a tenth of the GEMM time in float32, a third on the
 * bfloat16 AMX kernel).
 *
 * When a packing is made and used:
 *   - only outside autograd (`noGrad`, not inside a backward pass) and for products of at least
 *     {@link MIN_ROWS} rows against one matrix (smaller ones take the matrix-vector path, which
 *     reads the weight as it lies);
 *   - made on the first such product, in place of the packing that product would do anyway
 *     (a product of up to a few hundred rows packs all of B once per call), so it costs memory,
 *     not time;
 *   - only while it matches the weight: a packing belongs to one storage version (bumped by
 *     `copy_`, optimiser steps, gradcheck's probes; code writing a view's array directly must
 *     call `storage.bumpVersion()`), and as a guard against writes that skip the bump it also
 *     keeps a sample of {@link SAMPLES} of the weight's values, compared before each use;
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
/** Values of the weight sampled to catch writes that did not bump its storage's version. */
export const SAMPLES = 32;

interface Packing {
  version: number;
  /** The packed panels (from `addon.allocate`); null when over budget. */
  buffer: ArrayBuffer | null;
  /** The weight's values at the sample positions when it was packed. */
  sample: number[];
}

/** Packings by weight storage (its data array), then by the matrix's offset, strides and shape. */
const packings = new WeakMap<TypedArray, Map<string, Packing>>();

function envFlag(): boolean {
  const v = process.env.HEARTH_PACKED_WEIGHTS;
  return v === undefined || (v !== "0" && v.toLowerCase() !== "false");
}

let enabled = envFlag();
const budget = Number(process.env.HEARTH_PACKED_WEIGHTS_MB ?? 2048) * 2 ** 20;
let packedBytes = 0;
/** Gives a packing's bytes back to the budget once its buffer is collected. */
const released = new FinalizationRegistry<number>((bytes) => {
  packedBytes -= bytes;
});

/**
 * Turns weight pre-packing on or off for this process (initially on unless
 * `HEARTH_PACKED_WEIGHTS=0`); returns the previous setting. Turning it off keeps existing
 * packings until their weights are collected, but no product uses them.
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

function samplePositions(view: StridedView, K: number, N: number, rs: number, cs: number): number[] {
  const at: number[] = [];
  for (let s = 0; s < SAMPLES; s++) {
    const i = Math.floor((s * (K - 1)) / (SAMPLES - 1));
    const j = (s * 7919) % N;
    at.push(view.offset + i * rs + j * cs);
  }
  return at;
}

function readSample(data: TypedArray, positions: number[]): number[] {
  return positions.map((p) => Number(data[p]));
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
  if (!enabled || rows < MIN_ROWS || view.version === undefined || isGradEnabled() || isInBackward()) {
    return undefined;
  }
  let byMatrix = packings.get(view.data);
  if (!byMatrix) {
    byMatrix = new Map();
    packings.set(view.data, byMatrix);
  }
  const key = `${dtype}:${view.offset}:${rs}:${cs}:${K}:${N}`;
  let p = byMatrix.get(key);
  const positions = samplePositions(view, K, N, rs, cs);
  if (p && (p.version !== view.version || (p.buffer && !sameSample(p.sample, readSample(view.data, positions))))) {
    if (p.buffer) drop(addon, p);
    p = undefined;
  }
  if (p?.buffer) return p.buffer;
  if (!p) {
    p = { version: view.version, buffer: null, sample: [] };
    byMatrix.set(key, p);
  }
  const bytes = addon.gemmPackedBytes(dtype, K, N);
  if (bytes === 0 || packedBytes + bytes > budget) return undefined;
  const buffer = addon.allocate(bytes, false);
  addon.gemmPackB(dtype, K, N, view.data, view.offset, [rs, cs], buffer);
  packedBytes += bytes;
  released.register(buffer, bytes, p);
  p.buffer = buffer;
  p.sample = readSample(view.data, positions);
  return buffer;
}

/** Frees a stale packing now rather than at the next collection. */
function drop(addon: NativeAddon, p: Packing): void {
  const buffer = p.buffer as ArrayBuffer;
  const bytes = buffer.byteLength;
  released.unregister(p);
  p.buffer = null;
  packedBytes -= bytes;
  addon.free(buffer);
}
