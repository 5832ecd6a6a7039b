/**
 * Loader for the native addon (`build/Release/hearth_native.node`).
 *
 * If the addon is missing or fails to load, {@link native} is `null`, the package runs on the
 * `js` backend, and a single warning says why.
 *
 * @example
 * import { native, allocateAligned } from "@hearth/tensor/native";
 * const buf = allocateAligned(1024); // 64-byte aligned when the addon is present
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

/** CPU features the addon detected once at load time. */
export interface CpuFeatures {
  avx2: boolean;
  fma: boolean;
  f16c: boolean;
  avx512f: boolean;
  avx512bw: boolean;
  avx512vl: boolean;
  avx512bf16: boolean;
  /** AMX tiles with bf16 dot products, enabled by the OS (Linux still needs a per-process request). */
  amxBf16: boolean;
}

/** dtypes the native matmul reads (its output and accumulation are always float32). */
export type NativeGemmDType = "float32" | "bfloat16" | "float16";

/** Element strides `[batch, row, column]` of a matmul operand. */
export type GemmStrides = [number, number, number];

/** The functions the addon exports. Kernels register more as they land. */
/** See {@link NativeAddon.poolStats}. */
export interface PoolStats {
  jobs: number;
  helped: number;
  tasks: number;
  helperTasks: number;
  jobMs: number;
  waitMs: number;
  /** Bytes idle workers read ahead: the matrix a product expects next (native README, "read-ahead"). */
  prefetchedBytes: number;
  threadCpuMs: number;
}

/** See {@link allocatorStats}. Capacities are the blocks' sizes rounded up to 64 KiB. */
export interface AllocatorStats {
  /** Bytes of `allocate`'s blocks held by JavaScript now. */
  liveBytes: number;
  /** Bytes of released blocks kept for reuse (up to max(1 GiB, peakLiveBytes)). */
  cachedBytes: number;
  /** The most bytes ever held by JavaScript at once. */
  peakLiveBytes: number;
  cachedBlocks: number;
}

/** glibc's view of the C heap, all arenas together (see {@link mallocStats}). */
export interface MallocStats {
  /** Bytes the arenas hold (sbrk and per-thread heaps), in use or free. */
  arenaBytes: number;
  inUseBytes: number;
  /** Free chunks inside the arenas: resident until trimmed (fragmentation shows here). */
  freeBytes: number;
  /** Bytes of malloc's own mmapped chunks (large requests). */
  mappedBytes: number;
}

export interface NativeAddon {
  /**
   * A 64-byte-aligned buffer, zero-filled unless `zero` is false (then a recycled block keeps
   * stale contents: only for callers that overwrite every byte).
   */
  allocate(nbytes: number, zero?: boolean): ArrayBuffer;
  /**
   * Releases a buffer from `allocate` now (detaching it: its views read as empty); returns false
   * and does nothing for any other buffer.
   */
  free(buffer: ArrayBufferLike): boolean;
  mapFile(path: string): ArrayBuffer;
  /**
   * The file at `path` (created mode 0600 if missing, grown to `nbytes` if shorter) mapped
   * shared read-write: every process mapping it sees every write (memory between processes).
   */
  mapShared(path: string, nbytes: number): ArrayBuffer;
  residentBytes(): number;
  allocatorStats(): AllocatorStats;
  mallocStats(): MallocStats | null;
  cpuFeatures(): CpuFeatures;
  /**
   * Batched `C[b] = alpha·A[b]·B[b] + beta·C[b]` with A `M×K`, B `K×N`, C `M×N` (float32).
   * `a` and `b` hold `dtype` elements (bfloat16/float16 as raw 16-bit words); offsets and strides
   * are in elements, so transposed and strided views need no copy. `c` must not overlap `a`/`b`.
   * `beta = 0` ignores C's old contents. Throws (never aborts) on bad arguments or a view that
   * would reach outside its buffer. `bPacked`: B as `gemmPackB` packed it. `bias`: N values added
   * to every row of the product by the threads that write it (`C = alpha·A·B + bias + beta·C`).
   * `aFloat32`: with a 16-bit `dtype`, `a` holds float32 values (offsets and strides in floats),
   * rounded to `dtype` by the kernel before the product, bit for bit as a cast of A would.
   * `addend` (float32, M×N at `addendOffset` with `addendStrides`, not overlapping `c`): added to
   * the finished product, `C = (alpha·A·B + bias + beta·C) + addend`, rounded as a separate add
   * (a residual stream), by the threads that write each C tile while it is in cache.
   */
  gemm(
    dtype: NativeGemmDType,
    M: number,
    N: number,
    K: number,
    batch: number,
    a: ArrayBufferLike | ArrayBufferView,
    aOffset: number,
    aStrides: GemmStrides,
    b: ArrayBufferLike | ArrayBufferView,
    bOffset: number,
    bStrides: GemmStrides,
    c: ArrayBufferLike | Float32Array,
    cOffset: number,
    cStrides: GemmStrides,
    alpha: number,
    beta: number,
    bPacked?: ArrayBufferLike | null,
    bias?: Float32Array | null,
    aFloat32?: boolean,
    addend?: Float32Array | null,
    addendOffset?: number,
    addendStrides?: GemmStrides,
    activation?: "gelu" | "geluTanh" | "silu" | null,
  ): void;
  /**
   * Bytes `gemmPackB` needs for a `K×N` B of `dtype` (a 64-byte header, then B cut into the
   * micro-panels of the kernel family products of `dtype` run on); 0 when such a B is never
   * packed (one narrower than half a micro-panel).
   */
  gemmPackedBytes(dtype: NativeGemmDType, K: number, N: number): number;
  /**
   * Packs the `K×N` B at `b` (`bOffset`, strides `[row, column]` in elements) into `dst` (from
   * `allocate`, at least `gemmPackedBytes` bytes), for `gemm`'s `bPacked`: products that take it
   * skip packing B (inference weights, packed once). `gemm` ignores a packing made for another
   * kernel family; keeping it in step with B's values is the caller's job.
   */
  gemmPackB(
    dtype: NativeGemmDType,
    K: number,
    N: number,
    b: ArrayBufferLike | ArrayBufferView,
    bOffset: number,
    bStrides: readonly [number, number],
    dst: ArrayBufferLike,
  ): void;
  /**
   * float32 `out = op(x)` over a strided view into a row-major `out` of `shape`; op is one of
   * neg abs sign exp log log1p sqrt sin cos tanh sigmoid relu erf.
   */
  unary(
    op: string,
    x: ArrayBufferLike | Float32Array,
    xOffset: number,
    xStrides: readonly number[],
    out: ArrayBufferLike | Float32Array,
    shape: readonly number[],
  ): void;
  /** float32 `out = op(a, b)` for views broadcast to `shape`; op: add sub mul div pow maximum minimum. */
  binary(
    op: string,
    a: ArrayBufferLike | Float32Array,
    aOffset: number,
    aStrides: readonly number[],
    b: ArrayBufferLike | Float32Array,
    bOffset: number,
    bStrides: readonly number[],
    out: ArrayBufferLike | Float32Array,
    shape: readonly number[],
  ): void;
  /** Bit-exact strided copy between typed arrays of one element size (1, 2, 4 or 8 bytes). */
  copy(
    src: ArrayBufferView,
    srcOffset: number,
    srcStrides: readonly number[],
    dst: ArrayBufferView,
    dstOffset: number,
    dstStrides: readonly number[],
    shape: readonly number[],
  ): void;
  /** `out = cond ? a : b` for a bool (Uint8Array) `cond` and `a`, `b`, `out` of one element size. */
  where(
    cond: Uint8Array,
    condOffset: number,
    condStrides: readonly number[],
    a: ArrayBufferView,
    aOffset: number,
    aStrides: readonly number[],
    b: ArrayBufferView,
    bOffset: number,
    bStrides: readonly number[],
    out: ArrayBufferView,
    shape: readonly number[],
  ): void;
  /**
   * One fused Adam/AdamW update in place (float32 buffers of one length; `vmax` for AMSGrad).
   * `keep` applies AdamW's decoupled decay `p·keep` first; `l2` adds `weightDecay·p` to the
   * gradient (Adam). Rounds exactly like the js optimiser, so results are bit-identical.
   */
  adamStep(
    p: Float32Array,
    g: Float32Array,
    m: Float32Array,
    v: Float32Array,
    vmax: Float32Array | null,
    stepSize: number,
    bc2Sqrt: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    l2: boolean,
    keep: number,
  ): void;
  /**
   * `out[p] = x[p with p[dim] = index[p]]` over the index's `shape` (any element size; `size` is
   * x's length along `dim`). An out-of-range index throws with code HEARTH_TENSOR_INDEX.
   */
  gather(
    x: ArrayBufferView,
    xOffset: number,
    xStrides: readonly number[],
    size: number,
    index: BigInt64Array | Int32Array,
    indexOffset: number,
    indexStrides: readonly number[],
    out: ArrayBufferView,
    shape: readonly number[],
    dim: number,
  ): void;
  /** float32 `out[p with p[dim] = index[p]] += src[p]`, `out` row-major over `outShape`. */
  scatterAdd(
    out: Float32Array,
    outShape: readonly number[],
    index: BigInt64Array | Int32Array,
    indexOffset: number,
    indexStrides: readonly number[],
    src: Float32Array,
    srcOffset: number,
    srcStrides: readonly number[],
    shape: readonly number[],
    dim: number,
  ): void;
  /** Softmax over each of `rows` contiguous float32 rows of `cols` (fully masked rows give NaN). */
  softmaxRows(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** `dx = y·(dy − Σ dy·y)` per row, the softmax backward from the saved output `y`. */
  softmaxBackwardRows(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /** Layer norm per row (biased variance); saves `mean`/`rstd` per row when given. */
  layerNormRows(
    x: Float32Array,
    w: Float32Array | null,
    b: Float32Array | null,
    eps: number,
    y: Float32Array,
    mean: Float32Array | null,
    rstd: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /** Layer-norm backward from the saved `mean`/`rstd`; accumulates into `dw`/`db` when given. */
  layerNormBackwardRows(
    x: Float32Array,
    w: Float32Array | null,
    mean: Float32Array,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array | null,
    db: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /** RMS norm per row: `x / √(mean(x²) + eps) · w`; saves `rstd` when given. */
  rmsNormRows(
    x: Float32Array,
    w: Float32Array | null,
    eps: number,
    y: Float32Array,
    rstd: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /**
   * Fused attention forward, streaming over keys (online softmax). q [B,H,T,D], k [B,G,S,D],
   * v [B,G,S,E] are float32 views given by storage, element offset and strides over their first
   * three dims (the last dim contiguous); query head h reads kv head h / (H / G). `mask` (or
   * null) covers [B,H,T,S] with four strides (0 broadcasts): a Float32Array is added to the
   * scaled scores, a Uint8Array keeps the keys whose byte is non-zero. `causal` lets query i see
   * keys j <= i + S - T. Writes out [B,H,T,E] (a view like q: offset and strides over
   * [b, h, t]) and the row log-sum-exp `lse` [B,H,T] (contiguous); a query that sees no key
   * gets NaN and lse -inf. `shape` is [B,H,G,T,S,D,E].
   */
  attention(
    q: Float32Array,
    qOffset: number,
    qStrides: readonly number[],
    k: Float32Array,
    kOffset: number,
    kStrides: readonly number[],
    v: Float32Array,
    vOffset: number,
    vStrides: readonly number[],
    mask: Float32Array | Uint8Array | null,
    maskOffset: number,
    maskStrides: readonly number[],
    out: Float32Array,
    outOffset: number,
    outStrides: readonly number[],
    lse: Float32Array | null,
    shape: readonly number[],
    scale: number,
    causal: boolean,
    /**
     * With new keys and values ([B, G, T, D|E] views like k and v), k and v are a KV cache's
     * first S positions, and these are copied into positions [S - T, S) before attending: a
     * decoding step's cache write and attention in one call.
     */
    newK?: Float32Array | null,
    newKOffset?: number,
    newKStrides?: readonly number[],
    newV?: Float32Array | null,
    newVOffset?: number,
    newVStrides?: readonly number[],
  ): void;
  /**
   * Backward of {@link NativeAddon.attention} from its saved `out` and `lse` and the output
   * gradient `dout` (views like q: offset and strides over [b, h, t], the last dim
   * contiguous): writes every element of the dq, dk, dv views (strided likewise). Recomputes the
   * probabilities block by block (64 queries × 64 keys), so it needs no [T, S] buffer; queries
   * that saw no key get zero.
   */
  attentionBackward(
    q: Float32Array,
    qOffset: number,
    qStrides: readonly number[],
    k: Float32Array,
    kOffset: number,
    kStrides: readonly number[],
    v: Float32Array,
    vOffset: number,
    vStrides: readonly number[],
    mask: Float32Array | Uint8Array | null,
    maskOffset: number,
    maskStrides: readonly number[],
    out: Float32Array,
    outOffset: number,
    outStrides: readonly number[],
    lse: Float32Array,
    dout: Float32Array,
    doutOffset: number,
    doutStrides: readonly number[],
    dq: Float32Array,
    dqOffset: number,
    dqStrides: readonly number[],
    dk: Float32Array,
    dkOffset: number,
    dkStrides: readonly number[],
    dv: Float32Array,
    dvOffset: number,
    dvStrides: readonly number[],
    shape: readonly number[],
    scale: number,
    causal: boolean,
  ): void;
  /** Forces the attention kernel's vector variant ("avx512", "avx2" or "generic"; "" = automatic); false when unavailable. */
  selectAttentionKernel(name: string): boolean;
  /** float32 `sum`/`amax`/`amin` of a view over `dims` into the row-major kept dims of `out`. */
  reduce(
    op: string,
    x: ArrayBufferLike | Float32Array,
    xOffset: number,
    xStrides: readonly number[],
    shape: readonly number[],
    dims: readonly number[],
    out: ArrayBufferLike | Float32Array,
  ): void;
  /**
   * The fewest rows from which a float32 product of fewer rows than the GEMM takes (its few-row
   * panel form) reads B from a `gemmPackB` packing handed as `bPacked` rather than B itself; 0
   * when none does (the kernel family has no panel form, or packs otherwise).
   */
  gemvPackedRows(): number;
  /** The micro-kernel family in use for a dtype: "amx-bf16x3" (float32 on AMX), "amx-bf16", "avx512-bf16", "avx512", "avx2" or "generic". */
  gemmKernel(dtype: NativeGemmDType): string;
  /** Forces a kernel family ("" restores the automatic choice); false when the CPU lacks it. */
  selectGemmKernel(name: string): boolean;
  /** Threads a kernel may use (the caller included). */
  numThreads(): number;
  /** Resizes the thread pool; 0 restores the default (HEARTH_NUM_THREADS or the cores). */
  setNumThreads(n: number): number;
  /**
   * The thread pool's counters since the process started, for profiles (a span's figures are
   * the difference of two readings): parallel jobs, those a worker joined (`helped`; the rest
   * ran on the calling thread alone), their tasks and the workers' share, the jobs' wall time
   * and the part the caller spent waiting for workers after its own tasks, the bytes idle
   * workers read ahead of the next product, and the calling thread's CPU time.
   */
  poolStats(): PoolStats;
  /**
   * Reads the first `bytes` bytes of `buffer` once on the thread pool and returns a checksum:
   * a memory-bandwidth probe for benchmarks (bytes / time is the read bandwidth a memory-bound
   * kernel can hope for).
   */
  streamRead(buffer: ArrayBufferLike | ArrayBufferView, bytes: number): number;
  /** Log-softmax over each of `rows` contiguous float32 rows of `cols`. */
  logSoftmaxRows(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** `dx = dy − exp(y)·Σ dy` per row, the log-softmax backward from the saved output `y`. */
  logSoftmaxBackwardRows(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /** RMS-norm backward from the saved `rstd`; accumulates into `dw` when given. */
  rmsNormBackwardRows(
    x: Float32Array,
    w: Float32Array | null,
    rstd: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dw: Float32Array | null,
    rows: number,
    cols: number,
  ): void;
  /** `y = op(x)` over `n` contiguous float32 values; op: "gelu" (erf), "geluTanh" or "silu". */
  activation(op: "gelu" | "geluTanh" | "silu", x: Float32Array, y: Float32Array, n: number): void;
  /** `dx = dy · op'(x)` over `n` contiguous float32 values. */
  activationBackward(
    op: "gelu" | "geluTanh" | "silu",
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    n: number,
  ): void;
  /** The fused row-kernel variant in use: "avx512", "avx2" or "generic" (`selectGemmKernel` forces it too). */
  fusedKernel(): string;
  /**
   * Converts `n` contiguous values between float32 (Float32Array) and bfloat16/float16 (raw bits
   * in a Uint16Array), round to nearest even, bit-identical with the js encoders.
   */
  convert(
    src: ArrayBufferView,
    srcDtype: "float32" | "bfloat16" | "float16",
    dst: ArrayBufferView,
    dstDtype: "float32" | "bfloat16" | "float16",
    n: number,
  ): void;
  /** The conversion variant in use: "avx512", "avx2" or "generic". */
  convertKernel(): string;
  /** float32 comparison (eq ne lt le gt ge) of views broadcast to `shape` into 0/1 bytes. */
  compare(
    op: string,
    a: ArrayBufferLike | Float32Array,
    aOffset: number,
    aStrides: readonly number[],
    b: ArrayBufferLike | Float32Array,
    bOffset: number,
    bStrides: readonly number[],
    out: Uint8Array,
    shape: readonly number[],
  ): void;
}

const addonPath = fileURLToPath(new URL("../../build/Release/hearth_native.node", import.meta.url));

function loadAddon(): { addon: NativeAddon | null; reason: string | null } {
  if (process.env.HEARTH_BACKEND === "js") return { addon: null, reason: null };
  try {
    const require = createRequire(import.meta.url);
    return { addon: require(addonPath) as NativeAddon, reason: null };
  } catch (error) {
    return { addon: null, reason: (error as Error).message.split("\n")[0] ?? String(error) };
  }
}

const loaded = loadAddon();
let warned = false;

/** The native addon, or `null` when it could not be loaded. */
export const native: NativeAddon | null = loaded.addon;

/** Why the addon is unavailable, or `null` when it loaded (or `HEARTH_BACKEND=js` chose js). */
export const nativeLoadError: string | null = loaded.reason;

/** Prints, once per process, that the `js` backend is in use because the addon failed to load. */
export function warnNativeUnavailableOnce(): void {
  if (warned || nativeLoadError === null) return;
  warned = true;
  console.warn(
    `@hearth/tensor: native addon unavailable (${nativeLoadError}); using the js backend. ` +
      "Run `npm rebuild @hearth/tensor` to build it.",
  );
}

/** A zero-filled buffer of `nbytes`, 64-byte aligned and reported to V8 when native. */
export function allocateAligned(nbytes: number): ArrayBuffer {
  if (native) return native.allocate(nbytes);
  warnNativeUnavailableOnce();
  return new ArrayBuffer(nbytes);
}

/**
 * The whole file as an ArrayBuffer: mapped private copy-on-write when native (writes never reach
 * the file), read into memory otherwise.
 */
export function mapFile(path: string): ArrayBuffer {
  if (native) return native.mapFile(path);
  warnNativeUnavailableOnce();
  const bytes = readFileSync(path);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

/**
 * The file at `path` mapped shared (see {@link NativeAddon.mapShared}): writes reach every
 * process that maps the same file, so a file in `/dev/shm` is memory shared between
 * processes. Null without the native addon (Node.js itself cannot map files), so callers keep
 * a file-I/O fallback.
 *
 * @example
 * const shared = mapShared("/dev/shm/my-job/rank-0", 1 << 20);
 * if (shared) new Float32Array(shared)[0] = 1; // seen by every process that maps the file
 */
export function mapShared(path: string, nbytes: number): ArrayBuffer | null {
  return native ? native.mapShared(path, nbytes) : null;
}

/**
 * The native allocator's own accounting (null without the addon): with {@link residentBytes},
 * tells memory the engine holds (live tensors, the reuse cache) from what the process holds
 * around it (the JavaScript heap, malloc's free lists).
 */
export function allocatorStats(): AllocatorStats | null {
  return native ? native.allocatorStats() : null;
}

/**
 * The C heap as glibc sees it (null without the addon or on another C library): the memory of
 * native code's own small allocations (kernels' scratch, blocks under 2 MiB), in use or held
 * free by malloc's arenas.
 */
export function mallocStats(): MallocStats | null {
  return native ? native.mallocStats() : null;
}

/** Resident set size of this process in bytes (from /proc; falls back to `process.memoryUsage`). */
export function residentBytes(): number {
  if (native) return native.residentBytes();
  return process.memoryUsage().rss;
}
