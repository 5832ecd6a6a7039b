/**
 * The dispatcher: runs a primitive by name. It validates and infers outputs with the op's
 * definition (`primitives.ts`), makes views without a kernel, otherwise allocates outputs on
 * the active backend and calls its kernel, and records the op on the autograd tape.
 */
import type { StridedView } from "../access.ts";
import { isGradEnabled, recordsBackward } from "../autograd/grad-mode.ts";
import { getBackend, getKernel } from "../backends/registry.ts";
import type { DType } from "../dtype.ts";
import { isFloating } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import {
  PROFILING,
  PROFILING_SHAPES,
  profileDispatch,
  profileEnd,
  profileStart,
  shapesKey,
} from "../profile/op-profile.ts";
import { numel, type Shape } from "../shape.ts";
import { Storage } from "../storage.ts";
import { type TapeNode, Tensor } from "../tensor.ts";
import { PRIMITIVES } from "./primitives.ts";

let metaDepth = 0;

/**
 * Runs `fn` with every tensor it creates placed on the "meta" device: shapes and dtypes are
 * inferred as usual but no memory is allocated and no kernel runs (PyTorch's
 * `torch.device("meta")`; accelerate's `initEmptyWeights` is built on it).
 *
 * @example
 * const model = onMetaDevice(() => new Linear(4096, 4096)); // no 64 MiB allocated
 */
export function onMetaDevice<T>(fn: () => T): T {
  metaDepth++;
  try {
    return fn();
  } finally {
    metaDepth--;
  }
}

/**
 * A contiguous tensor allocated by the active backend, zero-filled unless `zero` is false (then
 * its contents are unspecified and the caller must write every element).
 */
export function allocate(shape: Shape, dtype: DType, zero = true): Tensor {
  if (metaDepth > 0) return new Tensor(Storage.meta(dtype, numel(shape)), shape);
  const backend = getBackend();
  const storage = Storage.allocate(
    (n) => backend.allocator.allocate(n, zero),
    dtype,
    numel(shape),
    backend.device,
    backend.allocator.free,
  );
  return new Tensor(storage, shape);
}

function makeContiguous(v: StridedView, temps: Tensor[]): StridedView {
  const tmp = allocate(v.shape, v.dtype);
  temps.push(tmp);
  getKernel("contiguous").fn({ inputs: [v], outputs: [tmp.view_()], attrs: {} });
  return tmp.view_();
}

/**
 * Runs primitive `op` on `inputs` with `attrs`, returning its outputs.
 *
 * @example
 * const [c] = apply("add", [a, b]);
 */
// biome-ignore lint/suspicious/noExplicitAny: attribute types vary per primitive
export function apply(op: string, inputs: readonly Tensor[], attrs: any = {}): Tensor[] {
  if (!PROFILING) return dispatch(op, inputs, attrs);
  const start = performance.now();
  const outputs = dispatch(op, inputs, attrs);
  profileDispatch(op, outputs[0]?.storage === inputs[0]?.storage && outputs.length === 1, start);
  return outputs;
}

// biome-ignore lint/suspicious/noExplicitAny: attribute types vary per primitive
function dispatch(op: string, inputs: readonly Tensor[], attrs: any): Tensor[] {
  const def = PRIMITIVES[op];
  if (!def) throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", `apply: unknown primitive '${op}'`);
  const device = inputs[0]?.device;
  for (const t of inputs) {
    if (t.disposed) {
      throw new HearthTensorError("HEARTH_TENSOR_DISPOSED", `${op}: input ${t.describe()} was used after dispose()`);
    }
    if (t.device !== device) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_BACKEND",
        `${op}: all inputs must be on one device, got ${inputs.map((x) => x.device).join(", ")}`,
      );
    }
  }
  const inferred = def.infer(inputs, attrs);
  const finalAttrs = inferred.attrs ?? attrs;
  let outputs: Tensor[];
  if (inferred.view) {
    const x = inputs[0] as Tensor;
    const { shape, strides, offset } = inferred.view;
    outputs = [new Tensor(x.storage, shape, strides, offset)];
  } else if (metaDepth > 0 || device === "meta") {
    // Meta tensors: shapes and dtypes only, no memory, no kernel.
    outputs = inferred.outputs.map((o) => new Tensor(Storage.meta(o.dtype, numel(o.shape)), o.shape));
  } else {
    const record = getKernel(op);
    const allocStart = PROFILING ? profileStart() : 0;
    const zero = !record.writesAll;
    outputs = inferred.outputs.map((o) => allocate(o.shape, o.dtype, zero));
    if (PROFILING) profileEnd(`${op} (allocate outputs)`, !isGradEnabled(), allocStart, 0);
    let kernelInputs = inferred.kernelInputs ?? inputs.map((t) => t.view_());
    const temps: Tensor[] = [];
    if (record.contiguousInputs) {
      kernelInputs = kernelInputs.map((v) =>
        v.offset === 0 && isContiguousView(v) && v.data.length === numel(v.shape) ? v : makeContiguous(v, temps),
      );
    }
    const start = PROFILING ? profileStart() : 0;
    record.fn({ inputs: kernelInputs, outputs: outputs.map((t) => t.view_()), attrs: finalAttrs });
    for (const t of temps) t.dispose();
    if (PROFILING) {
      const key = PROFILING_SHAPES ? `${op} ${shapesKey(kernelInputs)}` : op;
      profileEnd(key, !isGradEnabled(), start, outputs[0]?.size ?? 0);
    }
  }
  if (def.backward && recordsBackward(inputs)) {
    const node: TapeNode = {
      op,
      inputs: [...inputs],
      outputs,
      attrs: finalAttrs,
      needs: inputs.map((t) => t.requiresGrad),
    };
    outputs.forEach((t, index) => {
      if (isFloating(t.dtype)) {
        t.requiresGrad = true;
        t.gradFn = { node, index };
      }
    });
  }
  return outputs;
}

function isContiguousView(v: StridedView): boolean {
  let expected = 1;
  for (let i = v.shape.length - 1; i >= 0; i--) {
    const size = v.shape[i] as number;
    if (size !== 1 && v.strides[i] !== expected) return false;
    expected *= size;
  }
  return true;
}

/** Runs a single-output primitive. */
// biome-ignore lint/suspicious/noExplicitAny: attribute types vary per primitive
export function apply1(op: string, inputs: readonly Tensor[], attrs: any = {}): Tensor {
  return apply(op, inputs, attrs)[0] as Tensor;
}
