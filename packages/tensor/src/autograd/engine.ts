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
import { isAutocastOperand } from "../ops/nn/autocast.ts";
import { viewStrides } from "../ops/primitive-helpers.ts";
import { PRIMITIVES } from "../ops/primitives.ts";
import { fmt, type Shape, sameShape } from "../shape.ts";
import type { Storage } from "../storage.ts";
import { type BackwardOptions, setBackwardImpl, type TapeNode, Tensor } from "../tensor.ts";
import { duringBackward } from "./grad-mode.ts";
import { keep } from "./scope.ts";

const released = new WeakSet<TapeNode>();

/** Sums `g` over broadcast dims so that it has `shape`. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const dims: number[] = [];
  for (let d = 0; d < g.ndim; d++) {
    if (d < lead || (shape[d - lead] === 1 && g.shape[d] !== 1)) dims.push(d);
  }
  const s = dims.length ? apply1("sum", [g], { dims, keepdim: true }) : g;
  return reshapeOrCopy(s, shape);
}

/** `g` viewed as `shape`, copied first only when no view can express it. */
function reshapeOrCopy(g: Tensor, shape: Shape): Tensor {
  const src = viewStrides(g.shape, g.strides, shape) ? g : apply1("contiguous", [g]);
  return apply1("reshape", [src], { shape });
}

/** A lookup's gradient not yet written: rows `g` to add at `index` along `dim` of the table. */
interface Scatter {
  index: Tensor;
  g: Tensor;
  dim: number;
}

/**
 * Gradients for leaves are summed over the whole pass and stored at its end, when no backward
 * formula can still read them. A fresh gradient that no other leaf or graph tensor shares is
 * stored as it is (no copy); a view, a shared one or the seed is copied. An existing `.grad`
 * is accumulated into in place.
 *
 * A lookup table's gradient (`gather`'s: its rows scattered into zeros) waits as a
 * {@link Scatter} until a dense gradient for the same table is pending that the engine alone
 * holds — a tied LM head's dW — and is then added into it in place: no zero-filled [V, C]
 * table and no dense sum. Left alone at the end, it is written the plain way.
 */
class LeafGrads {
  private readonly pending = new Map<Tensor, Tensor>();
  private readonly scatters = new Map<Tensor, Scatter[]>();

  /**
   * `shared`: storages of the graph and the seed, never adopted or written into; `held`: the
   * gradients still waiting for their nodes.
   */
  constructor(
    private readonly shared: Set<Storage>,
    private readonly held: () => Iterable<Tensor>,
  ) {}

  add(leaf: Tensor, g: Tensor): void {
    const prev = this.pending.get(leaf);
    this.pending.set(leaf, prev ? apply1("add", [prev, g]) : g);
    this.settle(leaf);
  }

  /** Adds a lookup's gradient to `leaf`'s (see the class comment). */
  scatter(leaf: Tensor, s: Scatter): void {
    const list = this.scatters.get(leaf);
    if (list) list.push(s);
    else this.scatters.set(leaf, [s]);
    this.settle(leaf);
  }

  /** Writes `leaf`'s waiting scatters into its pending gradient when the engine alone holds that. */
  private settle(leaf: Tensor): void {
    const list = this.scatters.get(leaf);
    const into = list ? this.owned(leaf) : null;
    if (!list || !into) return;
    const view = into.view_();
    for (const { index, g, dim } of list) {
      getKernel("scatterAdd").fn({ inputs: [view, index.view_(), g.view_()], outputs: [view], attrs: { dim } });
    }
    this.scatters.delete(leaf);
  }

  /**
   * `leaf`'s pending gradient when the engine alone holds its memory: a backward output that
   * no graph tensor, other leaf's gradient or waiting gradient shares (the dead intermediates
   * of the formulas that made it, views included, are never read again).
   */
  private owned(leaf: Tensor): Tensor | null {
    const prev = this.pending.get(leaf);
    if (!prev || prev.dtype !== leaf.dtype || prev.offset !== 0 || !prev.isContiguous()) return null;
    if (prev.storage.length !== prev.size || this.shared.has(prev.storage)) return null;
    for (const [other, g] of this.pending) if (other !== leaf && g.storage === prev.storage) return null;
    for (const t of this.held()) if (t.storage === prev.storage) return null;
    for (const list of this.scatters.values()) for (const s of list) if (s.g.storage === prev.storage) return null;
    return prev;
  }

  /** Stores every pending gradient (`shared`'s storages are never adopted). */
  flush(): void {
    const shared = this.shared;
    const waiting = [...this.scatters];
    this.scatters.clear();
    for (const [leaf, list] of waiting) {
      for (const { index, g, dim } of list) {
        // gather's own formula: the rows scattered into zeros
        const ctx = { inputs: [leaf, index], outputs: [], attrs: { dim }, needs: [true, false] };
        this.add(leaf, PRIMITIVES.gather?.backward?.(ctx, [g])[0] as Tensor);
      }
    }
    for (const [leaf, g] of this.pending) {
      if (leaf.grad === null || leaf.grad.disposed) {
        const own = !shared.has(g.storage) && g.offset === 0 && g.isContiguous() && g.storage.length === g.size;
        leaf.grad = keep(own ? g : apply1("contiguous", [g]));
        shared.add(leaf.grad.storage);
      } else {
        accumulateInto(leaf.grad, g);
      }
    }
    this.pending.clear();
  }
}

/** `grad += g` in `grad`'s memory. */
function accumulateInto(grad: Tensor, g: Tensor): void {
  if (grad.offset === 0 && grad.isContiguous() && grad.dtype === g.dtype && grad.storage !== g.storage) {
    // Elementwise kernels read element i before writing it, so the output may alias an input.
    const out = grad.view_();
    getKernel("add").fn({ inputs: [out, g.view_()], outputs: [out], attrs: {} });
    return;
  }
  const sum = apply1("add", [grad, g]);
  copyInto(grad, sum);
  sum.dispose();
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  if (t.grad === null || t.grad.disposed) t.grad = keep(apply1("contiguous", [g]));
  else accumulateInto(t.grad, g);
}

/** Writes `src` (same shape and dtype) into `dst`'s memory with the contiguous kernel. */
function copyInto(dst: Tensor, src: Tensor): void {
  getKernel("contiguous").fn({ inputs: [src.view_()], outputs: [dst.view_()], attrs: {} });
}

/** One slice's gradient waiting to be written into its input's gradient. */
interface SlicePiece {
  dim: number;
  start: number;
  end: number;
  g: Tensor;
}

/**
 * Gradients of slices of one graph tensor, held back until that tensor's node runs: slices
 * that tile a dim exactly (a `split`, e.g. GPT-2's fused q, k, v) become one `cat` instead of a
 * zero-padded copy per slice and an add per extra slice; any other set is padded and summed as
 * the slice formula does.
 */
class SliceGrads {
  private readonly pieces = new Map<TapeNode, Map<number, SlicePiece[]>>();

  add(target: TapeNode, index: number, piece: SlicePiece): void {
    let byIndex = this.pieces.get(target);
    if (!byIndex) {
      byIndex = new Map();
      this.pieces.set(target, byIndex);
    }
    const list = byIndex.get(index);
    if (list) list.push(piece);
    else byIndex.set(index, [piece]);
  }

  /** Folds the held pieces of `node`'s outputs into `grads` (creating entries as needed). */
  take(node: TapeNode, grads: (Tensor | null)[]): void {
    const byIndex = this.pieces.get(node);
    if (!byIndex) return;
    this.pieces.delete(node);
    for (const [index, list] of byIndex) {
      const shape = (node.outputs[index] as Tensor).shape;
      const g = SliceGrads.assemble(shape, list);
      const prev = grads[index];
      grads[index] = prev ? apply1("add", [prev, g]) : g;
    }
  }

  /**
   * The pieces as one view when they already lie side by side in one storage (the packed
   * q, k, v gradients of the attention backward, for a fused qkv projection): same strides,
   * each starting where the one before ends along `dim`. Null when they do not.
   */
  private static joined(shape: Shape, dim: number, sorted: SlicePiece[]): Tensor | null {
    const first = (sorted[0] as SlicePiece).g;
    const step = first.strides[dim] as number;
    for (const { g, start } of sorted) {
      if (g.storage !== first.storage || g.offset !== first.offset + start * step) return null;
      if (g.strides.some((s, d) => s !== first.strides[d] && (g.shape[d] as number) > 1)) return null;
    }
    return new Tensor(first.storage, shape, first.strides, first.offset);
  }

  /** Every gradient held back. */
  *held(): Generator<Tensor> {
    for (const byIndex of this.pieces.values()) for (const list of byIndex.values()) for (const p of list) yield p.g;
  }

  private static assemble(shape: Shape, list: SlicePiece[]): Tensor {
    const sorted = [...list].sort((a, b) => a.start - b.start);
    const dim = (sorted[0] as SlicePiece).dim;
    let tiles = true;
    let at = 0;
    for (const piece of sorted) {
      if (piece.dim !== dim || piece.start !== at) {
        tiles = false;
        break;
      }
      at = piece.end;
    }
    if (tiles && at === shape[dim]) {
      if (sorted.length === 1) return (sorted[0] as SlicePiece).g;
      return (
        SliceGrads.joined(shape, dim, sorted) ??
        apply1(
          "cat",
          sorted.map((piece) => piece.g),
          { dim },
        )
      );
    }
    let sum: Tensor | null = null;
    for (const piece of list) {
      const pads = shape.map((s, d) => (d === piece.dim ? [piece.start, s - piece.end] : [0, 0]));
      const padded = apply1("pad", [piece.g], { pads, value: 0 });
      sum = sum ? apply1("add", [sum, padded]) : padded;
    }
    return sum as Tensor;
  }
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
  duringBackward(() => {
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
    // Storages a leaf must never adopt or have added into: the seed, and every tensor of the graph.
    const shared = new Set<Storage>([seed.storage]);
    for (const node of order) {
      for (const t of node.inputs) shared.add(t.storage);
      for (const t of node.outputs) shared.add(t.storage);
    }
    const grads = new Map<TapeNode, (Tensor | null)[]>();
    const slices = new SliceGrads();
    const leaves = new LeafGrads(shared, function* () {
      for (const slot of grads.values()) for (const t of slot) if (t) yield t;
      yield* slices.held();
    });
    const first: (Tensor | null)[] = rootNode.outputs.map(() => null);
    first[root.gradFn.index] = seed;
    grads.set(rootNode, first);
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i] as TapeNode;
      const outGrads = grads.get(node);
      if (!outGrads) continue;
      grads.delete(node);
      slices.take(node, outGrads);
      const def = PRIMITIVES[node.op];
      if (!def?.backward) continue;
      const source = node.inputs[0] as Tensor;
      const g0 = outGrads[0];
      if (node.op === "slice" && g0 && node.needs[0] && source.gradFn && g0.dtype === source.dtype) {
        // Held back for its input's node (see SliceGrads); the slot makes that node run.
        const target = source.gradFn.node;
        if (!grads.has(target))
          grads.set(
            target,
            target.outputs.map(() => null),
          );
        slices.add(target, source.gradFn.index, {
          ...(node.attrs as { dim: number; start: number; end: number }),
          g: g0,
        });
        continue;
      }
      const table = node.inputs[0] as Tensor;
      if (
        node.op === "gather" &&
        g0 &&
        node.needs[0] &&
        !table.gradFn &&
        table.requiresGrad &&
        g0.dtype === table.dtype
      ) {
        leaves.scatter(table, { index: node.inputs[1] as Tensor, g: g0, dim: (node.attrs as { dim: number }).dim });
        continue;
      }
      const inGrads = def.backward(
        { inputs: node.inputs, outputs: node.outputs, attrs: node.attrs, needs: node.needs },
        outGrads,
      );
      node.inputs.forEach((input, j) => {
        let g = inGrads[j];
        if (!g || !node.needs[j] || !input.requiresGrad) return;
        g = sumToShape(g, input.shape);
        // an autocast operand's gradient may stay float32 (see ops/nn/autocast.ts)
        const wide = g.dtype === "float32" && isAutocastOperand(input);
        if (g.dtype !== input.dtype && isFloating(input.dtype) && !wide)
          g = apply1("cast", [g], { dtype: input.dtype });
        if (input.gradFn) {
          const target = input.gradFn.node;
          const slot = grads.get(target) ?? target.outputs.map(() => null);
          const prev = slot[input.gradFn.index];
          if (prev && prev.dtype !== g.dtype) g = apply1("cast", [g], { dtype: prev.dtype });
          slot[input.gradFn.index] = prev ? apply1("add", [prev, g]) : g;
          grads.set(target, slot);
        } else {
          leaves.add(input, g);
        }
      });
    }
    leaves.flush();
    if (opts.retainGraph) return;
    for (const node of order) {
      released.add(node);
      node.inputs = [];
      node.outputs = [];
    }
  });
}

setBackwardImpl(runBackward);
