/**
 * The `js` reference backend: plain TypeScript loops over typed arrays that define every
 * primitive. Slow and obviously correct; the oracle other backends are tested against.
 */
import type { Backend } from "../types.ts";
import { attentionKernels } from "./attention.ts";
import { convKernels } from "./conv.ts";
import { elementwiseKernels } from "./elementwise.ts";
import { fusedKernels } from "./fused.ts";
import { lossKernels } from "./loss.ts";
import { matmulKernels } from "./matmul.ts";
import { movementKernels } from "./movement.ts";
import { randomKernels } from "./random.ts";
import { reduceKernels } from "./reduce.ts";

/** The `js` backend object. */
export const jsBackend: Backend = {
  name: "js",
  device: "cpu",
  allocator: { allocate: (nbytes) => new ArrayBuffer(nbytes) },
  kernels: [
    ...elementwiseKernels,
    ...reduceKernels,
    ...matmulKernels,
    ...movementKernels,
    ...convKernels,
    ...randomKernels,
    ...lossKernels,
    ...fusedKernels,
    ...attentionKernels,
  ],
  synchronize() {},
};
