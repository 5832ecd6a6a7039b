/**
 * Reverse-mode autograd over the tape that `apply` records. Gradients are computed with the
 * backward formulas of `ops/primitives.ts` (under `noGrad`), summed down to each input's shape
 * (undoing broadcasts), accumulated into leaves' `.grad`, and the tape is released afterwards.
 */
import { writeNumbers } from "../access.ts";
import { getKernel } from "../backends/registry.ts";
import { isFloating } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { allocate, apply1 } from "../ops/apply.ts";
import { PRIMITIVES } from "../ops/primitives.ts";
import { fmt, type Shape } from "../shape.ts";
import { type BackwardOptions, setBackwardImpl, type TapeNode, type Tensor } from "../tensor.ts";
import { noGrad } from "./grad-mode.ts";
import { keep } from "./scope.ts";

const released = new WeakSet<TapeNode>();

/** Sums `g` over broadcast dims so that it has `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (g.shape.length === shape.length && g.shape.every((s, i) => s === shape[i])) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  const s = dims.length ? apply1("sum", [g], { dims, keepdim: true }) : g;
  return apply1("reshape", [apply1("contiguous", [s])], { shape });
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null || t.grad.disposed) {
    t.grad = keep(apply1("contiguous", [g]));
  } else {
    const sum = apply1("add", [t.grad, g]);
    copyInto(t.grad, sum);
    sum.dispose();
  }
}

/** Writes `src` (same shape and dtype) into `dst`'s memory with the contiguous kernel. */
function copyInto(dst: Tensor, src: Tensor): void {
  getKernel("contiguous").fn({ inputs: [src.view_()], outputs: [dst.view_()], attrs: {} });
}

function topoOrder(root: TapeNode): TapeNode[] {
  const order: TapeNode[] = [];
  const seen = new Set<TapeNode>();
  const stack: [TapeNode, boolean][] = [[root, false]];
  while (stack.length) {
    const [node, done] = stack.pop() as [TapeNode, boolean];
    if (done) {
      order.push(node);
      continue;
    }
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push([node, true]);
    for (const input of node.inputs) {
      if (input.gradFn && !seen.has(input.gradFn.node)) stack.push([input.gradFn.node, false]);
    }
  }
  return order;
}

function runBackward(root: Tensor, grad: Tensor | undefined, opts: BackwardOptions): void {
  if (!root.requiresGrad) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_GRAD",
      `backward: ${root.describe()} does not require grad (no input had requiresGrad, or it was made under noGrad)`,
    );
  }
  let seed: Tensor;
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_GRAD",
        `backward: argument 'grad' is required for a non-scalar output ${root.describe()}`,
      );
    }
    seed = allocate(root.shape, root.dtype);
    writeNumbers(seed.view_().data, seed.dtype, [1]);
  } else {
    if (grad.shape.length !== root.shape.length || grad.shape.some((s, i) => s !== root.shape[i])) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_SHAPE",
        `backward: argument 'grad' must have shape ${fmt(root.shape)}, got ${fmt(grad.shape)}`,
      );
    }
    seed = grad;
  }
  noGrad(() => {
    if (!root.gradFn) {
      accumulateLeaf(root, seed);
      return;
    }
    const rootNode = root.gradFn.node;
    if (released.has(rootNode)) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_GRAD",
        "backward: the graph of this tensor was already used by an earlier backward() and released",
      );
    }
    const order = topoOrder(rootNode);
    const grads = new Map<TapeNode, (Tensor | null)[]>();
    const first: (Tensor | null)[] = rootNode.outputs.map(() => null);
    first[root.gradFn.index] = seed;
    grads.set(rootNode, first);
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i] as TapeNode;
      const outGrads = grads.get(node);
      if (!outGrads) continue;
      grads.delete(node);
      const def = PRIMITIVES[node.op];
      if (!def?.backward) continue;
      const inGrads = def.backward(
        { inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, needs: node.needs },
        outGrads,
      );
      node.inputs.forEach((input, j) => {
        let g = inGrads[j];
        if (!g || !node.needs[j] || !input.requiresGrad) return;
        g = sumToShape(g, input.shape);
        if (g.dtype !== input.dtype && isFloating(input.dtype)) g = apply1("cast", [g], { dtype: input.dtype });
        if (input.gradFn) {
          const target = input.gradFn.node;
          const slot = grads.get(target) ?? target.outputs.map(() => null);
          const prev = slot[input.gradFn.index];
          slot[input.gradFn.index] = prev ? apply1("add", [prev, g]) : g;
          grads.set(target, slot);
        } else {
          accumulateLeaf(input, g);
        }
      });
    }
    if (opts.retainGraph) return;
    for (const node of order) {
      released.add(node);
      node.inputs = [];
      node.outputs = [];
    }
  });
}

setBackwardImpl(runBackward);
