/** Backend registration: the `js` reference backend is always registered (priority 0). */
import { jsBackend } from "./js/index.ts";
import { registerBackend } from "./registry.ts";

registerBackend(jsBackend, 0);

// The native `cpu` backend registers itself (priority 10) when the addon loads.
import "./cpu/index.ts";

export { gemmPairReport, gemmPairReset, setGemmPair } from "./cpu/gemm-pair.ts";
export { cpuBackend } from "./cpu/index.ts";
export { packedWeightBytes, setWeightPacking } from "./cpu/packed-weights.ts";
export { jsBackend } from "./js/index.ts";
export { getBackend, getKernel, listBackends, registerBackend, setBackend, withBackend } from "./registry.ts";
export type { Allocator, Backend, KernelArgs, KernelFn, KernelRecord } from "./types.ts";
