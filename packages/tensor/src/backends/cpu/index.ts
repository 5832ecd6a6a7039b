/**
 * The `cpu` backend: the native addon's kernels (packed AVX-512/AVX2 GEMM, elementwise ops,
 * comparisons and reductions, fused row ops, casts between any dtypes, cat/pad, cumsum, sort,
 * random fills; bfloat16/float16 through the float32 kernels) with the `js`
 * reference kernels listed explicitly for the primitives that have no native kernel yet. It
 * registers itself with priority 10 (above `js`) when the addon loads; `HEARTH_BACKEND=js` or a
 * failed build leaves `js` in charge.
 *
 * @example
 * import { setBackend } from "@hearth/tensor";
 * setBackend("cpu"); // the default whenever the addon is built
 */
import { anyDTypeNative } from "../../native/any-dtype.ts";
import { lossNative } from "../../native/loss.ts";
import { markFallback, PROFILING } from "../../profile/op-profile.ts";
import { jsBackend } from "../js/index.ts";
import { registerBackend } from "../registry.ts";
import type { Backend, KernelFn, KernelRecord } from "../types.ts";
import { attentionKernels } from "./attention.ts";
import { compareKernels } from "./compare.ts";
import { castKernel, halfFallback } from "./convert.ts";
import { elementwiseKernels } from "./elementwise.ts";
import { fusedKernels } from "./fused.ts";
import { indexingKernels } from "./indexing.ts";
import { lossKernels } from "./loss.ts";
import { matmulKernels } from "./matmul.ts";
import { movementKernels } from "./movement.ts";
import { randomKernels } from "./random.ts";
import { scanKernels } from "./scan.ts";

/** Ops whose bfloat16/float16 arguments run through their native float32 kernel. */
const HALF_OPS = new Set([
  ...["neg", "abs", "sign", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "erf"],
  ...["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge"],
  ...["sum", "amax", "amin"],
  ...["softmax", "softmaxBackward", "logSoftmax", "logSoftmaxBackward", "layerNorm", "layerNormBackward"],
  ...["rmsNorm", "rmsNormBackward", "gelu", "geluBackward", "silu", "siluBackward"],
]);

/**
 * Ops whose kernels (native and their js fallbacks) write every output element, so their
 * outputs skip the zero-fill of recycled memory. Not here: ops that accumulate into their
 * outputs (scatterAdd) or write only a window of them (pad, cat). The norm backwards sum their
 * parameter gradients into outputs that their kernel record zeroes first (fused.ts).
 */
const WRITES_ALL = new Set([
  "matmul",
  ...["neg", "abs", "sign", "exp", "log", "log1p", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu", "erf"],
  ...["add", "sub", "mul", "div", "pow", "maximum", "minimum", "where", "contiguous", "cast", "gather"],
  ...["crossEntropy", "crossEntropyBackward", "gelu", "geluBackward", "silu", "siluBackward"],
  ...["softmax", "logSoftmax", "softmaxBackward", "logSoftmaxBackward", "layerNorm", "rmsNorm"],
  ...["layerNormBackward", "rmsNormBackward", "attention", "attentionBackward", "cachedAttention"],
]);

/** Buffers of at least this many bytes are allocated by the addon. */
const NATIVE_ALLOCATION_BYTES = 1 << 20;

/**
 * Small buffers that `dispose()`/`scope()` handed back, kept by exact byte length for the next
 * allocation of that size: a decoding step allocates ~250 small outputs (activations of one
 * token), and a fresh zeroed `ArrayBuffer` each time costs more than its kernel. Bounded in
 * total bytes and per size; buffers never handed back are left to the garbage collector.
 */
class SmallBufferPool {
  private readonly bySize = new Map<number, ArrayBuffer[]>();
  private bytes = 0;
  constructor(
    private readonly maxBytes: number,
    private readonly maxPerSize: number,
  ) {}

  take(nbytes: number, zero: boolean): ArrayBuffer {
    const list = this.bySize.get(nbytes);
    const buffer = list?.pop();
    if (!buffer) return new ArrayBuffer(nbytes);
    this.bytes -= nbytes;
    if (zero) new Uint8Array(buffer).fill(0);
    return buffer;
  }

  give(buffer: ArrayBuffer): void {
    const n = buffer.byteLength;
    if (n === 0 || this.bytes + n > this.maxBytes || !(buffer instanceof ArrayBuffer)) return;
    let list = this.bySize.get(n);
    if (!list) {
      list = [];
      this.bySize.set(n, list);
    }
    if (list.length >= this.maxPerSize) return;
    list.push(buffer);
    this.bytes += n;
  }
}

const smallBuffers = new SmallBufferPool(process.env.HEARTH_SMALL_POOL === "0" ? 0 : 32 << 20, 256);

function jsKernel(op: string): KernelFn {
  const record = jsBackend.kernels.find((k) => k.op === op);
  if (!record) throw new Error(`cpu backend: the js backend has no '${op}' kernel to fall back to`);
  if (!PROFILING) return record.fn;
  const fn = record.fn;
  return (args) => {
    markFallback();
    fn(args);
  };
}

function build(): Backend | null {
  const addon = anyDTypeNative;
  if (!addon) return null;
  // What a native record runs for arguments its float32 kernel does not take: bfloat16/float16
  // through the float32 kernel (widened, then rounded once), float casts natively, else js.
  const byOp = new Map<string, KernelFn>();
  const fallback = (op: string): KernelFn => {
    const js = jsKernel(op);
    if (op === "cast") return castKernel(addon, js).fn;
    if (!HALF_OPS.has(op)) return js;
    return halfFallback(addon, js, () => byOp.get(op) as KernelFn);
  };
  const nativeKernels: KernelRecord[] = [
    ...matmulKernels(addon, jsKernel("matmul")),
    ...elementwiseKernels(addon, fallback),
    ...compareKernels(addon, fallback),
    ...indexingKernels(addon, jsKernel),
    ...(lossNative ? lossKernels(lossNative, jsKernel) : []),
    ...fusedKernels(addon, fallback),
    ...attentionKernels(addon),
    ...movementKernels(addon),
    ...scanKernels(addon, jsKernel),
    ...randomKernels(addon, jsKernel("random")),
  ];
  for (const k of nativeKernels) byOp.set(k.op, k.fn);
  const nativeOps = new Set(nativeKernels.map((k) => k.op));
  // Delegated to the js reference until a native kernel lands (every other primitive).
  const delegated = jsBackend.kernels
    .filter((k) => !nativeOps.has(k.op))
    .map((k) => (PROFILING ? { ...k, fn: jsKernel(k.op) } : k));
  return {
    name: "cpu",
    device: "cpu",
    // Small buffers stay on V8's heap, which recycles them promptly; large ones come 64-byte
    // aligned from the addon, reported to V8 as external memory so its GC feels the pressure.
    // `free` (called by dispose()/scope()) hands the addon's buffers back at once for reuse;
    // V8's own small buffers are left to the garbage collector.
    allocator: {
      allocate: (nbytes, zero = true) =>
        nbytes < NATIVE_ALLOCATION_BYTES ? smallBuffers.take(nbytes, zero) : addon.allocate(nbytes, zero),
      free: (buffer) => {
        if (buffer.byteLength >= NATIVE_ALLOCATION_BYTES) addon.free(buffer);
        else smallBuffers.give(buffer as ArrayBuffer);
      },
    },
    kernels: [...nativeKernels, ...delegated].map((k) => (WRITES_ALL.has(k.op) ? { ...k, writesAll: true } : k)),
    synchronize() {},
  };
}

/** The `cpu` backend, or `null` when the native addon is unavailable. */
export const cpuBackend: Backend | null = build();
if (cpuBackend) registerBackend(cpuBackend, 10);
