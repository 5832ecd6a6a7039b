/**
 * The fused attention primitives: `attention` (softmax(scale·q·kᵀ + mask)·v, streaming over
 * keys) and `attentionBackward` (its gradients, recomputed from the saved row log-sum-exp).
 * Entries of the primitive table (`../primitives.ts`); `scaledDotProductAttention` in
 * `./attention.ts` is the op users call.
 *
 * Shapes: B batch, H query heads, G key/value heads (H a multiple of G: query head h reads
 * kv head ⌊h / (H / G)⌋, grouped-query attention without repeating k and v), T queries, S keys,
 * D head size, E value size.
 *   q [B, H, T, D], k [B, G, S, D], v [B, G, S, E], mask (optional) broadcastable to [B, H, T, S]
 *   → out [B, T, H, E] (q's dtype; positions before heads, so merging the heads back into
 *   [B, T, H·E] is a view, not a copy; `scaledDotProductAttention` returns it transposed to
 *   [B, H, T, E]) and lse [B, H, T] (float32, the row log-sum-exp; -inf for a
 *   query that sees no key, whose output is NaN as softmax over all -inf gives). A query whose
 *   keys are all hidden by a finite minimum (finfo.min) averages v as softmax does; its lse
 *   rounds to that minimum, so the backward recomputes such a row's max and log-sum apart.
 * A float mask is added to the scaled scores; a bool mask keeps the keys where it is true.
 * `causal` lets query i see keys j <= i + S − T. The mask gets no gradient (the op falls back
 * to the composite when it needs one), and the backward is not itself differentiable.
 * `attentionBackward` takes out and dout as [B, T, H, E] and gives dq, dk, dv; with `packed`
 * (self-attention, T = S and D = E) it gives one [B, T, H + 2G, D] tensor holding dq, dk and dv
 * side by side per position — the layout of a fused qkv projection's output, whose gradient
 * then needs neither a copy per head merge nor a concatenation — and the attention backward
 * hands out views of it.
 */
import type { StridedView } from "../../access.ts";
import { isFloating } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { broadcastShapes, fmt, sameShape } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply } from "../apply.ts";
import { broadcastView } from "../primitive-helpers.ts";
import type { BackwardContext, Inferred, Primitive } from "../primitives.ts";

/** Attributes of the attention primitives. */
export interface AttentionAttrs {
  scale: number;
  causal: boolean;
  /** attentionBackward only: one [B, T, H + 2G, D] output instead of dq, dk, dv. */
  packed?: boolean;
}

/** The sizes of one attention problem (see the legend above). */
export interface AttentionDims {
  B: number;
  H: number;
  G: number;
  T: number;
  S: number;
  D: number;
  E: number;
}

function bad(op: string, message: string): HearthTensorError {
  return new HearthTensorError("HEARTH_TENSOR_SHAPE", `${op}: ${message}`);
}

/** Validates q, k, v (and the mask) and returns the sizes and the mask broadcast to [B, H, T, S]. */
function check(
  op: string,
  q: Tensor,
  k: Tensor,
  v: Tensor,
  mask: Tensor | undefined,
): { dims: AttentionDims; mask: StridedView | null } {
  for (const [t, n] of [
    [q, "q"],
    [k, "k"],
    [v, "v"],
  ] as const) {
    if (t.ndim !== 4) throw bad(op, `argument '${n}' must be [batch, heads, length, size], got ${t.describe()}`);
    if (!isFloating(t.dtype) || t.dtype !== q.dtype) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_DTYPE",
        `${op}: q, k and v must share one float dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`,
      );
    }
  }
  const [B, H, T, D] = q.shape as [number, number, number, number];
  const [Bk, G, S, Dk] = k.shape as [number, number, number, number];
  const [Bv, Gv, Sv, E] = v.shape as [number, number, number, number];
  if (Bk !== B || Bv !== B || Gv !== G || Sv !== S || Dk !== D || G === 0 || H % G !== 0) {
    throw bad(
      op,
      `expected q [B, H, T, D], k [B, G, S, D], v [B, G, S, E] with H a multiple of G, got q ${fmt(q.shape)}, k ${fmt(k.shape)}, v ${fmt(v.shape)}`,
    );
  }
  return { dims: { B, H, G, T, S, D, E }, mask: mask ? maskView(op, mask, q.dtype, [B, H, T, S]) : null };
}

/** The mask (bool or q's dtype) broadcast to `full` = [B, H, T, S]. */
function maskView(op: string, mask: Tensor, dtype: string, full: number[]): StridedView {
  if (mask.dtype !== "bool" && mask.dtype !== dtype) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${op}: argument 'mask' must be bool or ${dtype} like q, got ${mask.dtype}`,
    );
  }
  const shape = broadcastShapes(op, mask.shape, full);
  if (shape.length !== 4 || shape.some((s, i) => s !== full[i])) {
    throw bad(op, `argument 'mask' ${fmt(mask.shape)} must broadcast to [B, H, T, S] = ${fmt(full)}`);
  }
  return broadcastView(mask, full);
}

function attrsOf(op: string, attrs: Partial<AttentionAttrs>): AttentionAttrs {
  if (typeof attrs.scale !== "number" || !Number.isFinite(attrs.scale)) {
    throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", `${op}: attribute 'scale' must be a finite number`);
  }
  return { scale: attrs.scale, causal: attrs.causal ?? false };
}

/** Whether the backward can pack dq, dk, dv into one [B, T, H + 2G, D] output. */
function packable(d: AttentionDims): boolean {
  return d.T === d.S && d.D === d.E;
}

const attention: Primitive<AttentionAttrs> = {
  inputs: ["q", "k", "v", "mask"],
  infer(inputs, attrs): Inferred<AttentionAttrs> {
    const [q, k, v, mask] = inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    const { dims, mask: m } = check("attention", q, k, v, mask);
    const { B, H, T, E } = dims;
    return {
      outputs: [
        { shape: [B, T, H, E], dtype: q.dtype },
        { shape: [B, H, T], dtype: "float32" },
      ],
      attrs: attrsOf("attention", attrs),
      kernelInputs: [q.view_(), k.view_(), v.view_(), ...(m ? [m] : [])],
    };
  },
  backward(ctx: BackwardContext<AttentionAttrs>, grads) {
    const [q, k, v, mask] = ctx.inputs as [Tensor, Tensor, Tensor, Tensor | undefined];
    const [out, lse] = ctx.outputs as [Tensor, Tensor];
    const g = grads[0];
    if (!g) return ctx.inputs.map(() => null);
    const [B, H, T, D] = q.shape as [number, number, number, number];
    const [, G, S, E] = v.shape as [number, number, number, number];
    const inputs = [q, k, v, out, lse, g, ...(mask ? [mask] : [])];
    let grads3: Tensor[];
    if (packable({ B, H, G, T, S, D, E })) {
      // one buffer, [B, T, H + 2G, D]; each gradient is a [B, heads, T, D] view of its columns
      const [all] = apply("attentionBackward", inputs, { ...ctx.attrs, packed: true }) as [Tensor];
      const part = (start: number, n: number) =>
        apply("permute", [apply("slice", [all], { dim: 2, start, end: start + n })[0] as Tensor], {
          dims: [0, 2, 1, 3],
        })[0] as Tensor;
      grads3 = [part(0, H), part(H, G), part(H + G, G)];
    } else {
      grads3 = apply("attentionBackward", inputs, { ...ctx.attrs, packed: false });
    }
    const [dq, dk, dv] = grads3 as [Tensor, Tensor, Tensor];
    return [ctx.needs[0] ? dq : null, ctx.needs[1] ? dk : null, ctx.needs[2] ? dv : null, null];
  },
};

const attentionBackward: Primitive<AttentionAttrs> = {
  inputs: ["q", "k", "v", "out", "lse", "dout", "mask"],
  infer(inputs, attrs): Inferred<AttentionAttrs> {
    const [q, k, v, out, lse, dout, mask] = inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor?];
    const { dims, mask: m } = check("attentionBackward", q, k, v, mask);
    const { B, H, G, T, D, E } = dims;
    if (
      !sameShape(out.shape, [B, T, H, E]) ||
      !sameShape(dout.shape, [B, T, H, E]) ||
      !sameShape(lse.shape, [B, H, T]) ||
      lse.dtype !== "float32"
    ) {
      throw bad("attentionBackward", `out and dout must be ${fmt([B, T, H, E])} and lse float32 ${fmt([B, H, T])}`);
    }
    const packed = attrs.packed ?? false;
    if (packed && !packable(dims)) {
      throw bad("attentionBackward", `'packed' needs T = S and D = E, got ${fmt(q.shape)}, ${fmt(v.shape)}`);
    }
    return {
      outputs: packed
        ? [{ shape: [B, T, H + 2 * G, D], dtype: q.dtype }]
        : [q, k, v].map((t) => ({ shape: [...t.shape], dtype: t.dtype })),
      attrs: { ...attrsOf("attentionBackward", attrs), packed },
      kernelInputs: [q, k, v, out, lse, dout].map((t) => t.view_()).concat(m ? [m] : []),
    };
  },
};

/** Attributes of `cachedAttention`: those of `attention` and the positions the caches already hold. */
export interface CachedAttentionAttrs extends AttentionAttrs {
  past: number;
  /**
   * `[H, G]`: the inputs are `(qkv, keyCache, valueCache, mask?)`, with q, k and v the column
   * blocks of one fused projection qkv [B, T, (H + 2G)·D] (q's H heads, then k's G, then v's G,
   * D each), and the output is [B, T, H·D]: the heads split and merged inside the op, not by five
   * view ops around it.
   */
  qkvHeads?: [number, number];
}

/**
 * q [B, H, T, D], k and v [B, G, T, D] as strided views of a fused projection qkv [B, T, (H + 2G)·D]
 * (the layout `cachedAttention`'s `qkvHeads` form reads).
 */
function qkvViews(
  op: string,
  qkv: Tensor,
  heads: readonly number[] | undefined,
): [StridedView, StridedView, StridedView] {
  const [H, G] = (heads ?? []) as [number, number];
  const C = qkv.shape[2] as number;
  if (
    !Number.isInteger(H) ||
    !Number.isInteger(G) ||
    H < 1 ||
    G < 1 ||
    H % G !== 0 ||
    qkv.ndim !== 3 ||
    C % (H + 2 * G) !== 0 ||
    C === 0
  ) {
    throw bad(
      op,
      `with 'qkvHeads' [H, G] (H a multiple of G) argument 'qkv' must be [batch, length, (H + 2G)·D], got qkvHeads ${JSON.stringify(heads)} and ${qkv.describe()}`,
    );
  }
  if (!isFloating(qkv.dtype)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${op}: argument 'qkv' must be a float tensor, got ${qkv.dtype}`,
    );
  }
  const D = C / (H + 2 * G);
  const x = qkv.view_();
  return [headsOf(x, D, H, 0), headsOf(x, D, G, H), headsOf(x, D, G, H + G)];
}

/**
 * Heads [first, first + n) of D columns each of `x` [B, T, C] as a [B, n, T, D] view. At module
 * level, not a closure made per call: tsx (esbuild's keepNames) names every function object it
 * creates, a defineProperty each.
 */
function headsOf(x: StridedView, D: number, n: number, first: number): StridedView {
  const [sb, st, sc] = x.strides as [number, number, number];
  return {
    dtype: x.dtype,
    data: x.data,
    shape: [x.shape[0] as number, n, x.shape[1] as number, D],
    strides: [sb, D * sc, st, sc],
    offset: x.offset + first * D * sc,
  };
}

/**
 * `cachedAttention(q, k, v, keyCache, valueCache, mask?)`: a decoding step's self-attention in
 * one op. Writes the new keys and values k, v [B, G, T, D|E] into the caches [B, G, C, D|E] at
 * positions [past, past + T) (in place: the caches are inputs the kernel writes), then attends
 * q over the caches' first S = past + T positions as `attention` does (mask broadcastable to
 * [B, H, T, S]) → out [B, T, H, E]. No log-sum-exp and no backward: inference only. With the
 * `qkvHeads` attribute the op takes `(qkv, keyCache, valueCache, mask?)` instead and returns
 * [B, T, H·E] (see {@link CachedAttentionAttrs.qkvHeads}); the kernels see the same six inputs.
 */
const cachedAttention: Primitive<CachedAttentionAttrs> = {
  inputs: ["q", "k", "v", "keyCache", "valueCache", "mask"],
  infer(inputs, attrs): Inferred<CachedAttentionAttrs> {
    const op = "cachedAttention";
    const packed = attrs.qkvHeads !== undefined;
    let q: StridedView;
    let k: StridedView;
    let v: StridedView;
    let kc: Tensor;
    let vc: Tensor;
    let mask: Tensor | undefined;
    if (packed) {
      [kc, vc, mask] = inputs.slice(1) as [Tensor, Tensor, Tensor | undefined];
      [q, k, v] = qkvViews(op, inputs[0] as Tensor, attrs.qkvHeads);
    } else {
      const [qt, kt, vt] = inputs as [Tensor, Tensor, Tensor];
      [kc, vc, mask] = inputs.slice(3) as [Tensor, Tensor, Tensor | undefined];
      check(op, qt, kt, vt, undefined);
      [q, k, v] = [qt.view_(), kt.view_(), vt.view_()];
    }
    const [B, H, T, D] = q.shape as [number, number, number, number];
    const G = k.shape[1] as number;
    const E = v.shape[3] as number;
    const past = attrs.past;
    if (!Number.isInteger(past) || past < 0) {
      throw new HearthTensorError(
        "HEARTH_TENSOR_ARGUMENT",
        `${op}: attribute 'past' must be an integer >= 0, got ${past}`,
      );
    }
    for (const [t, n, e] of [
      [kc, "keyCache", D],
      [vc, "valueCache", E],
    ] as const) {
      if (t.dtype !== q.dtype) {
        throw new HearthTensorError("HEARTH_TENSOR_DTYPE", `${op}: '${n}' must be ${q.dtype} like q, got ${t.dtype}`);
      }
      const [b, g, c, d] = t.shape as [number, number, number, number];
      if (t.ndim !== 4 || b !== B || g !== G || d !== e || c < past + T || t.strides[3] !== 1) {
        throw bad(
          op,
          `'${n}' must be [${B}, ${G}, capacity >= ${past + T} (past ${past} + new ${T}), ${e}] with its last dim contiguous, got ${t.describe()}`,
        );
      }
    }
    const m = mask ? maskView(op, mask, q.dtype, [B, H, T, past + T]) : null;
    return {
      outputs: [{ shape: packed ? [B, T, H * E] : [B, T, H, E], dtype: q.dtype }],
      attrs: { scale: attrsOf(op, attrs).scale, causal: attrs.causal ?? false, past },
      kernelInputs: [q, k, v, kc.view_(), vc.view_(), ...(m ? [m] : [])],
    };
  },
};

/** The table entries, spread into `PRIMITIVES`. */
export const ATTENTION_PRIMITIVES = { attention, attentionBackward, cachedAttention };
