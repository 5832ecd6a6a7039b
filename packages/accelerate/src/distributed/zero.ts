/**
 * ZeRO stage 1 (Rajbhandari et al., "ZeRO: Memory Optimizations Toward Training Trillion
 * Parameter Models", 2020; PyTorch's `ZeroRedundancyOptimizer`): the trained parameters are
 * split into one contiguous run per rank, balanced by element count and cut only between
 * parameters (so any per-parameter optimiser works unchanged). On a sync step each rank
 *   1. reduce-scatters the flat gradient: it averages only its own run's gradients (half the
 *      additions of an all-reduce, and nothing written into the peers' buffers),
 *   2. keeps gradients only for its own parameters, so the optimiser (which skips parameters
 *      without a gradient) updates, and keeps state for, only those: 1/N of the optimiser work
 *      and of its memory per rank,
 *   3. all-gathers the updated parameters: each rank publishes its run, then copies the others'.
 * Gradient clipping needs the norm over all gradients: each rank contributes the norms of its
 * own parameters' averaged gradients in one tiny all-reduce during backward, so
 * `clipGradNorm` stays synchronous.
 */
import { fromBuffer, keep, type Tensor } from "@hearth/tensor";
import { native } from "@hearth/tensor/native";
import { AccelerateError } from "../errors.ts";
import type { Transport } from "./transport.ts";

/** Offsets where each of `world` contiguous runs of `sizes` starts, plus the total: balanced by sum. */
export function partitionBounds(sizes: readonly number[], world: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const bounds = [0];
  let at = 0;
  let i = 0;
  for (let r = 1; r < world; r++) {
    const target = (total * r) / world;
    // add parameters while that brings the cut closer to the ideal point
    while (i < sizes.length && Math.abs(at + (sizes[i] as number) - target) <= Math.abs(at - target)) {
      at += sizes[i] as number;
      i++;
    }
    bounds.push(at);
  }
  bounds.push(total);
  return bounds;
}

/** The values of a contiguous float32 tensor as a writable view of its storage, else null. */
export function float32Values(t: Tensor): Float32Array | null {
  if (t.dtype !== "float32" || !t.isContiguous() || t.storage.device === "meta") return null;
  const data = t.view_().data as Float32Array;
  return data.subarray(t.offset, t.offset + t.size);
}

/**
 * Makes `p.grad` a view of `values` (no copy; float32 parameters), unless it already is one.
 * The Accelerator keeps averaged gradients in the transport's all-reduce buffer this way, which
 * holds them until the next backward's all-reduce refills it.
 */
export function setGradView(p: Tensor, values: Float32Array): void {
  const g = p.grad ? float32Values(p.grad) : null;
  if (g && sameMemory(g, values)) return;
  p.grad?.dispose();
  p.grad = keep(fromBuffer(values, "float32", [...p.shape]));
}

/** Whether `a` and `b` are the same memory. */
export const sameMemory = (a: Float32Array, b: Float32Array): boolean =>
  a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;

/** One partition of the trained parameters over the ranks of a transport. */
export class ZeroPartition {
  /** Offset of each parameter in the flat buffers. */
  readonly offsets: number[] = [];
  /** Segment bounds per rank (worldSize + 1 offsets), at parameter boundaries. */
  readonly bounds: number[];
  /** Index range [first, end) of this rank's parameters. */
  readonly first: number;
  readonly end: number;
  readonly total: number;
  /**
   * L2 norm of each parameter's averaged gradient (float32-rounded, as `clipGradNorm` rounds
   * per-tensor norms), known on every rank after a sync step; null before.
   */
  norms: Float32Array | null = null;
  /** Whether parameters were stepped and not yet all-gathered (the forward must not run). */
  pendingGather = false;

  constructor(
    readonly params: readonly Tensor[],
    readonly transport: Transport,
  ) {
    let off = 0;
    for (const p of params) {
      if (!float32Values(p)) {
        throw new AccelerateError(
          "HEARTH_ACCELERATE_ARGUMENT",
          `Accelerator: zeroStage 1 needs contiguous float32 parameters (float32 master weights), got ${p.describe()}`,
        );
      }
      this.offsets.push(off);
      off += p.size;
    }
    this.total = off;
    this.bounds = partitionBounds(
      params.map((p) => p.size),
      transport.worldSize,
    );
    const lo = this.bounds[transport.rank] as number;
    const hi = this.bounds[transport.rank + 1] as number;
    this.first = this.offsets.findIndex((o) => o >= lo);
    if (this.first < 0) this.first = params.length;
    let end = this.first;
    while (end < params.length && (this.offsets[end] as number) < hi) end++;
    this.end = end;
  }

  /** Whether `params` is the list this partition was made for. */
  matches(params: readonly Tensor[]): boolean {
    return params.length === this.params.length && params.every((p, i) => p === this.params[i]);
  }

  /** Whether this rank updates `p`. */
  owns(index: number): boolean {
    return index >= this.first && index < this.end;
  }

  /**
   * Averages the gradients in `flat` (every parameter's local gradient, in order, each rank's
   * already times `1 / worldSize` when `scale` is 1) over the ranks, leaves `.grad` only on
   * this rank's parameters (holding the average) and records every parameter's gradient norm.
   */
  async reduceGradients(flat: Float32Array, scale = 1 / this.transport.worldSize): Promise<void> {
    const t = this.transport;
    if (t.reduceScatterSum) await t.reduceScatterSum(flat, this.bounds, scale);
    else await t.allReduceSum(flat, scale);
    const norms = new Float32Array(this.params.length);
    this.params.forEach((p, i) => {
      if (!this.owns(i)) {
        p.grad?.dispose();
        p.grad = null;
        return;
      }
      const off = this.offsets[i] as number;
      const values = flat.subarray(off, off + p.size);
      norms[i] = this.sumOfSquares(values) ** (1 / 2); // float32, as clipGradNorm rounds per-tensor norms
      setGradView(p, values);
    });
    // each norm comes from its owner alone (the others add zeros): exact
    await t.allReduceSum(norms);
    this.norms = norms;
  }

  private scratch: Float32Array | null = null;

  /** Σ x² (the native addon's vectorised square and double-accumulated sum where loaded). */
  private sumOfSquares(x: Float32Array): number {
    const n = x.length;
    if (!native || n === 0) {
      let s = 0;
      for (let j = 0; j < n; j++) s += (x[j] as number) * (x[j] as number);
      return s;
    }
    if ((this.scratch?.length ?? 0) < n) this.scratch = new Float32Array(n);
    const sq = (this.scratch as Float32Array).subarray(0, n);
    native.binary("mul", x, 0, [1], x, 0, [1], sq, [n]);
    const out = new Float32Array(1);
    native.reduce("sum", sq, 0, [1], [n], [0], out);
    return out[0] as number;
  }

  /**
   * Publishes this rank's updated parameters and copies in everyone else's: each peer's run
   * goes straight from the transport (shared memory, for {@link ShmTransport}) into the
   * parameters, one copy.
   */
  async gatherParameters(): Promise<void> {
    const t = this.transport;
    const buf = t.gatherBuffer?.(this.total) ?? new Float32Array(this.total);
    for (let i = this.first; i < this.end; i++) {
      buf.set(float32Values(this.params[i] as Tensor) as Float32Array, this.offsets[i]);
    }
    // the parameters in elements [at, at + values.length) of the flat buffer, from `values`
    const fill = (values: Float32Array, at: number) => {
      this.params.forEach((p, i) => {
        const off = (this.offsets[i] as number) - at;
        if (this.owns(i) || off < 0 || off >= values.length) return;
        (float32Values(p) as Float32Array).set(values.subarray(off, off + p.size));
        p.storage.bumpVersion(); // written in place: data cached from the old values is stale
      });
    };
    if (t.allGatherSegments) await t.allGatherSegments(buf, this.bounds, fill);
    else {
      for (let r = 0; r < t.worldSize; r++) await t.broadcast(buf.subarray(this.bounds[r], this.bounds[r + 1]), r);
      fill(buf, 0);
    }
    this.pendingGather = false;
  }

  /**
   * The joint L2 norm of the gradients of `params` (those in this partition) from the norms of
   * the last sync step, as `clipGradNorm` computes it: per-tensor norms, then their norm.
   */
  jointNorm(params: readonly Tensor[]): number {
    const norms = this.norms;
    if (!norms) {
      throw new AccelerateError(
        "HEARTH_ACCELERATE_PREPARE",
        "Accelerator.clipGradNorm: with zeroStage 1 it needs the gradients of a sync step; call backward() first",
      );
    }
    const index = new Map(this.params.map((p, i) => [p, i]));
    let acc = 0;
    for (const p of params) {
      const i = index.get(p);
      if (i === undefined) {
        if (p.grad) {
          throw new AccelerateError(
            "HEARTH_ACCELERATE_ARGUMENT",
            `Accelerator.clipGradNorm: with zeroStage 1 every clipped parameter must be a trained parameter of a prepared model or optimiser, got ${p.describe()}`,
          );
        }
        continue;
      }
      acc += (norms[i] as number) ** 2;
    }
    return acc ** (1 / 2);
  }
}
