/**
 * The collective-communication interface the Accelerator uses. One process per replica; a
 * transport moves float32 buffers between them. `ShmTransport` does it through shared memory on
 * one machine; a real collective library (NCCL, gloo, MPI) takes over across machines by
 * implementing this interface.
 */

/** Collectives over `worldSize` processes. Every process must call them in the same order. */
export interface Transport {
  readonly rank: number;
  readonly worldSize: number;
  /**
   * Sums `data` element-wise over all processes, in place, identically on every rank, then
   * multiplies by `scale` (default 1; `1 / worldSize` averages in the same pass).
   */
  allReduceSum(data: Float32Array, scale?: number): Promise<void>;
  /**
   * Optional: a buffer of `length` floats that `allReduceSum` reduces without copying it in or
   * out (in shared or registered memory), reused from call to call. Callers that fill it in
   * place save a copy of the gradient per step. Its contents last until the next
   * `allReduceSum` or `reduceScatterSum` on it: collectives on other arrays leave it alone, so
   * a caller may keep results there (the Accelerator hands the averaged gradients out as views
   * of it until the next backward).
   */
  allReduceBuffer?(length: number): Float32Array;
  /**
   * Optional (ZeRO-1): sums only rank `rank`'s segment, `data[bounds[rank], bounds[rank + 1])`,
   * over all processes, times `scale`, into this rank's `data`; the other segments of `data`
   * are left as they were. `bounds` has `worldSize + 1` entries from 0 to `data.length` and is
   * the same on every rank (segments may differ in length; a collective library with
   * equal-count reduce-scatter pads them). Without it, callers fall back to `allReduceSum`.
   */
  reduceScatterSum?(data: Float32Array, bounds: readonly number[], scale?: number): Promise<void>;
  /**
   * Optional (ZeRO-1): copies every rank's segment `data[bounds[r], bounds[r + 1])` into the
   * same segment of every other rank's `data` (an in-place all-gather). With `visit`, each
   * peer's segment is handed to it instead (`values` holds elements [at, at + values.length),
   * possibly a view of shared memory valid only during the call), so a caller that only copies
   * it onwards saves the copy into `data`. Without it, callers fall back to one `broadcast` per
   * rank.
   */
  allGatherSegments?(
    data: Float32Array,
    bounds: readonly number[],
    visit?: (values: Float32Array, at: number) => void,
  ): Promise<void>;
  /**
   * Optional: a buffer of `length` floats that `allGatherSegments` works on without copying
   * it in (shared or registered memory), reused from call to call and distinct from
   * {@link allReduceBuffer}'s.
   */
  gatherBuffer?(length: number): Float32Array;
  /** Every rank's `data`, in rank order (lengths may differ between ranks). */
  allGather(data: Float32Array): Promise<Float32Array[]>;
  /** Overwrites `data` with rank `root`'s. */
  broadcast(data: Float32Array, root?: number): Promise<void>;
  /** Resolves once every process has reached it. */
  barrier(): Promise<void>;
  /** Releases the transport's resources. */
  close(): Promise<void>;
}

/** The transport of a single process: every collective is the identity. */
export class LocalTransport implements Transport {
  readonly rank = 0;
  readonly worldSize = 1;
  async allReduceSum(data: Float32Array, scale = 1): Promise<void> {
    if (scale !== 1) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) * scale;
  }
  async allGather(data: Float32Array): Promise<Float32Array[]> {
    return [data.slice()];
  }
  async broadcast(_data: Float32Array, _root = 0): Promise<void> {}
  async barrier(): Promise<void> {}
  async close(): Promise<void> {}
}
