/**
 * The primitive ops: the only ops with kernels and the only place gradients are written.
 *
 * Each entry gives the input names, an `infer` step (validates inputs and attributes, returns
 * output shapes/dtypes, normalised attributes, and for view ops the view geometry instead of a
 * kernel call), and a backward formula written with other primitives. The fused row ops
 * (softmax, logSoftmax, layerNorm, rmsNorm, gelu, silu) are appended from `fused-primitives.ts`.
 * Every other op (`crossEntropy`, `logsumexp`, attention, …) is a composition in `ops/<group>/`.
 *
 * Conventions the kernels can rely on (see `backends/README.md`):
 * - elementwise inputs share one dtype and arrive broadcast to the output shape;
 * - attributes arrive normalised (non-negative dims, sorted unique reduction dims);
 * - outputs are zero-filled, contiguous, offset 0.
 *
 * Backward formulas may return gradients with the broadcast (output) shape; the autograd
 * engine sums them down to each input's shape.
 */
import { type StridedView, writeNumbers } from "../access.ts";
import { type DType, isFloating, isIntegral } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { broadcastShapes, fmt, normalizeDim, normalizeDims, numel, sameShape } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { allocate, apply1 } from "./apply.ts";
import { FUSED_PRIMITIVES } from "./fused-primitives.ts";
import { ATTENTION_PRIMITIVES } from "./nn/attention-primitive.ts";
import {
  broadcastView,
  type Col2imAttrs,
  type ConvAttrs,
  checkConvAttrs,
  checkIndex,
  convOut,
  keepdimShape,
  name,
  reducedShape,
  requireFloat,
  sameDType,
  viewStrides,
} from "./primitive-helpers.ts";
import { LOSS_PRIMITIVES } from "./primitives-loss.ts";

export { broadcastView, type Col2imAttrs, type ConvAttrs, viewStrides } from "./primitive-helpers.ts";

/** Output shape and dtype inferred for one output. */
export interface OutputSpec {
  shape: number[];
  dtype: DType;
}

/** What `infer` returns. */
export interface Inferred<A> {
  outputs: OutputSpec[];
  /** Normalised attributes handed to the kernel and the backward formula. */
  attrs?: A;
  /** Views the kernel gets instead of the raw inputs (e.g. broadcast to the output shape). */
  kernelInputs?: StridedView[];
  /** For view ops: the output shares the first input's storage; no kernel runs. */
  view?: { shape: number[]; strides: number[]; offset: number };
}

/** What a backward formula receives. */
export interface BackwardContext<A> {
  inputs: readonly Tensor[];
  outputs: readonly Tensor[];
  attrs: A;
  /** Which inputs need a gradient (skip the work for the others). */
  needs: readonly boolean[];
}

/** One primitive. */
export interface Primitive<A = Record<string, never>> {
  /** Input names, for messages; a leading "..." marks a variadic list. */
  readonly inputs: readonly string[];
  infer(inputs: readonly Tensor[], attrs: A): Inferred<A>;
  /** Gradients for each input from the gradients of each output (null = no gradient). */
  backward?(ctx: BackwardContext<A>, grads: readonly (Tensor | null)[]): (Tensor | null)[];
}

// ---- helpers used by the formulas -------------------------------------------------------

const p = (op: string, inputs: Tensor[], attrs: object = {}) => apply1(op, inputs, attrs);
/** 0-d tensor holding `value` with `like`'s dtype. */
function c(value: number, like: Tensor): Tensor {
  const t = allocate([], like.dtype);
  writeNumbers(t.view_().data, like.dtype, [value]);
  return t;
}
const mul = (a: Tensor, b: Tensor) => p("mul", [a, b]);
const div = (a: Tensor, b: Tensor) => p("div", [a, b]);
const neg = (a: Tensor) => p("neg", [a]);
const asType = (a: Tensor, dtype: DType) => (a.dtype === dtype ? a : p("cast", [a], { dtype }));

/** An activation a matmul applies to its result (see the `matmul` primitive). */
export type ProductActivation = "gelu" | "geluTanh" | "silu";
const ACTIVATIONS: ReadonlySet<string> = new Set(["gelu", "geluTanh", "silu"]);

/** Attributes of the `matmul` primitive (see its table entry). */
export interface MatmulAttrs {
  outDtype?: DType;
  bias?: boolean;
  roundA?: boolean;
  addend?: boolean;
  activation?: ProductActivation;
}

/** `t` viewed at `[...batch, rows, cols]`: its own view when it has that rank, else broadcast. */
function batchedView(t: Tensor, batch: readonly number[], rows: number, cols: number): StridedView {
  if (t.ndim === batch.length + 2) {
    let same = true;
    for (let d = 0; d < batch.length; d++) same &&= t.shape[d] === batch[d];
    if (same) return t.view_();
  }
  const shape = batch.slice();
  shape.push(rows, cols);
  return broadcastView(t, shape);
}

/** The gradient at a matmul's result before its activation: the product recomputed without it. */
function activationGrad(inputs: Tensor[], attrs: MatmulAttrs, g: Tensor): Tensor {
  const { activation, ...plain } = attrs;
  const z = p("matmul", inputs, plain);
  return activation === "silu"
    ? p("siluBackward", [z, g])
    : p("geluBackward", [z, g], { approximate: activation === "geluTanh" ? "tanh" : "none" });
}

/** matmul's multiply dtype with `roundA`: b's 16-bit dtype, for a float32 `a`. */
function roundedDType(a: Tensor, b: Tensor, op: () => string): DType {
  if (a.dtype !== "float32" || (b.dtype !== "bfloat16" && b.dtype !== "float16")) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_DTYPE",
      `${op()}: attribute 'roundA' needs a float32 'a' and a bfloat16 or float16 'b', got ${a.dtype} and ${b.dtype}`,
    );
  }
  return b.dtype;
}

function unary(op: string, kind: "float" | "numeric", backward?: Primitive["backward"]): Primitive {
  return {
    inputs: ["x"],
    infer(inputs) {
      const x = inputs[0] as Tensor;
      if (kind === "float") requireFloat(op, x, "x");
      if (x.dtype === "bool") {
        throw new HearthTensorError("HEARTH_TENSOR_DTYPE", `${op}: argument 'x' must be numeric, got ${x.describe()}`);
      }
      return { outputs: [{ shape: [...x.shape], dtype: x.dtype }] };
    },
    backward,
  };
}

function binary(op: string, out: "same" | "bool", backward?: Primitive["backward"]): Primitive {
  return {
    inputs: ["a", "b"],
    infer(inputs) {
      const [a, b] = inputs as [Tensor, Tensor];
      const dtype = sameDType(op, inputs, ["a", "b"]);
      const shape = broadcastShapes(() => name(op, inputs), a.shape, b.shape);
      return {
        outputs: [{ shape, dtype: out === "bool" ? "bool" : dtype }],
        kernelInputs: [broadcastView(a, shape), broadcastView(b, shape)],
      };
    },
    backward,
  };
}

export interface ReduceAttrs {
  dims: number[];
  keepdim: boolean;
}
export interface DimAttrs {
  dim: number;
  keepdim?: boolean;
}

function reduce(opName: string, dtypeRule: (d: DType) => DType, backward?: Primitive<ReduceAttrs>["backward"]) {
  const prim: Primitive<ReduceAttrs> = {
    inputs: ["x"],
    infer(inputs, attrs) {
      const x = inputs[0] as Tensor;
      const dims = normalizeDims(opName, attrs.dims, x.ndim);
      const keepdim = attrs.keepdim ?? false;
      if (opName !== "sum") {
        for (const d of dims) {
          if (x.shape[d] === 0) {
            throw new HearthTensorError(
              "HEARTH_TENSOR_SHAPE",
              `${opName}: cannot reduce over dim ${d} of size 0 in ${x.describe()}`,
            );
          }
        }
      }
      return {
        outputs: [{ shape: reducedShape(x.shape, dims, keepdim), dtype: dtypeRule(x.dtype) }],
        attrs: { dims, keepdim },
      };
    },
    backward,
  };
  return prim;
}

function extremumBackward(ctx: BackwardContext<ReduceAttrs>, grads: readonly (Tensor | null)[]): (Tensor | null)[] {
  const x = ctx.inputs[0] as Tensor;
  const ks = keepdimShape(x.shape, ctx.attrs.dims);
  const out = p("reshape", [ctx.outputs[0] as Tensor], { shape: ks });
  const g = p("reshape", [grads[0] as Tensor], { shape: ks });
  const mask = asType(p("eq", [x, p("expand", [out], { shape: x.shape })]), x.dtype);
  const count = p("sum", [mask], { dims: ctx.attrs.dims, keepdim: true });
  return [mul(mask, div(g, count))];
}

// ---- the table ------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: entries have different attribute types
export const PRIMITIVES: Record<string, Primitive<any>> = {
  // unary elementwise
  neg: unary("neg", "numeric", (_, [g]) => [neg(g as Tensor)]),
  abs: unary("abs", "numeric", ({ inputs: [x] }, [g]) => [mul(g as Tensor, p("sign", [x as Tensor]))]),
  sign: unary("sign", "numeric"),
  exp: unary("exp", "float", ({ outputs: [y] }, [g]) => [mul(g as Tensor, y as Tensor)]),
  log: unary("log", "float", ({ inputs: [x] }, [g]) => [div(g as Tensor, x as Tensor)]),
  log1p: unary("log1p", "float", ({ inputs: [x] }, [g]) => [
    div(g as Tensor, p("add", [x as Tensor, c(1, x as Tensor)])),
  ]),
  sqrt: unary("sqrt", "float", ({ outputs: [y] }, [g]) => [div(g as Tensor, mul(y as Tensor, c(2, y as Tensor)))]),
  sin: unary("sin", "float", ({ inputs: [x] }, [g]) => [mul(g as Tensor, p("cos", [x as Tensor]))]),
  cos: unary("cos", "float", ({ inputs: [x] }, [g]) => [neg(mul(g as Tensor, p("sin", [x as Tensor])))]),
  tanh: unary("tanh", "float", ({ outputs: [y] }, [g]) => {
    const t = y as Tensor;
    return [mul(g as Tensor, p("sub", [c(1, t), mul(t, t)]))];
  }),
  sigmoid: unary("sigmoid", "float", ({ outputs: [y] }, [g]) => {
    const s = y as Tensor;
    return [mul(g as Tensor, mul(s, p("sub", [c(1, s), s])))];
  }),
  relu: unary("relu", "numeric", ({ inputs: [x] }, [g]) => {
    const t = x as Tensor;
    return [mul(g as Tensor, asType(p("gt", [t, c(0, t)]), t.dtype))];
  }),
  erf: unary("erf", "float", ({ inputs: [x] }, [g]) => {
    const t = x as Tensor;
    const e = p("exp", [neg(mul(t, t))]);
    return [mul(g as Tensor, mul(e, c(2 / Math.sqrt(Math.PI), t)))];
  }),

  // binary elementwise (inputs share a dtype; the op wrappers promote)
  add: binary("add", "same", (_, [g]) => [g as Tensor, g as Tensor]),
  sub: binary("sub", "same", (_, [g]) => [g as Tensor, neg(g as Tensor)]),
  mul: binary("mul", "same", ({ inputs: [a, b], needs }, [g]) => [
    needs[0] ? mul(g as Tensor, b as Tensor) : null,
    needs[1] ? mul(g as Tensor, a as Tensor) : null,
  ]),
  div: binary("div", "same", ({ inputs: [, b], outputs: [y], needs }, [g]) => {
    const gt = g as Tensor;
    const bt = b as Tensor;
    return [needs[0] ? div(gt, bt) : null, needs[1] ? neg(div(mul(gt, y as Tensor), bt)) : null];
  }),
  pow: binary("pow", "same", ({ inputs: [a, b], outputs: [y], needs }, [g]) => {
    const [at, bt, gt, yt] = [a as Tensor, b as Tensor, g as Tensor, y as Tensor];
    const ga = needs[0] ? mul(gt, mul(bt, p("pow", [at, p("sub", [bt, c(1, bt)])]))) : null;
    let gb: Tensor | null = null;
    if (needs[1]) {
      const zero = c(0, at);
      const raw = mul(gt, mul(yt, p("log", [at])));
      gb = p("where", [p("eq", [at, zero]), zero, raw]);
    }
    return [ga, gb];
  }),
  maximum: binary("maximum", "same", ({ inputs: [a, b] }, [g]) => {
    const [at, bt, gt] = [a as Tensor, b as Tensor, g as Tensor];
    const w = p("add", [asType(p("gt", [at, bt]), at.dtype), mul(asType(p("eq", [at, bt]), at.dtype), c(0.5, at))]);
    return [mul(gt, w), mul(gt, p("sub", [c(1, w), w]))];
  }),
  minimum: binary("minimum", "same", ({ inputs: [a, b] }, [g]) => {
    const [at, bt, gt] = [a as Tensor, b as Tensor, g as Tensor];
    const w = p("add", [asType(p("lt", [at, bt]), at.dtype), mul(asType(p("eq", [at, bt]), at.dtype), c(0.5, at))]);
    return [mul(gt, w), mul(gt, p("sub", [c(1, w), w]))];
  }),
  eq: binary("eq", "bool"),
  ne: binary("ne", "bool"),
  lt: binary("lt", "bool"),
  le: binary("le", "bool"),
  gt: binary("gt", "bool"),
  ge: binary("ge", "bool"),

  where: {
    inputs: ["condition", "a", "b"],
    infer(inputs) {
      const [cond, a, b] = inputs as [Tensor, Tensor, Tensor];
      if (cond.dtype !== "bool") {
        throw new HearthTensorError(
          "HEARTH_TENSOR_DTYPE",
          `${name("where", inputs)}: argument 'condition' must be bool, got ${cond.dtype}`,
        );
      }
      const dtype = sameDType("where", [a, b], ["a", "b"]);
      const shape = broadcastShapes(() => name("where", inputs), cond.shape, a.shape, b.shape);
      return {
        outputs: [{ shape, dtype }],
        kernelInputs: [broadcastView(cond, shape), broadcastView(a, shape), broadcastView(b, shape)],
      };
    },
    backward({ inputs: [cond], needs }, [g]) {
      const gt = g as Tensor;
      const zero = c(0, gt);
      return [
        null,
        needs[1] ? p("where", [cond as Tensor, gt, zero]) : null,
        needs[2] ? p("where", [cond as Tensor, zero, gt]) : null,
      ];
    },
  } satisfies Primitive,

  cast: {
    inputs: ["x"],
    infer(inputs, attrs: { dtype: DType }) {
      const x = inputs[0] as Tensor;
      return { outputs: [{ shape: [...x.shape], dtype: attrs.dtype }] };
    },
    backward({ inputs: [x] }, [g]) {
      return [isFloating((x as Tensor).dtype) ? asType(g as Tensor, (x as Tensor).dtype) : null];
    },
  } satisfies Primitive<{ dtype: DType }>,

  // reductions
  sum: reduce(
    "sum",
    (d) => (isIntegral(d) ? "int64" : d),
    ({ inputs: [x], attrs }, [g]) => {
      const t = x as Tensor;
      const gk = p("reshape", [g as Tensor], { shape: keepdimShape(t.shape, attrs.dims) });
      return [p("expand", [gk], { shape: t.shape })];
    },
  ),
  amax: reduce("amax", (d) => d, extremumBackward),
  amin: reduce("amin", (d) => d, extremumBackward),
  argmax: argReduce("argmax"),
  argmin: argReduce("argmin"),
  cumsum: {
    inputs: ["x"],
    infer(inputs, attrs: { dim: number; reverse?: boolean }) {
      const x = inputs[0] as Tensor;
      const dim = normalizeDim("cumsum", attrs.dim, x.ndim);
      return {
        outputs: [{ shape: [...x.shape], dtype: isIntegral(x.dtype) ? "int64" : x.dtype }],
        attrs: { dim, reverse: attrs.reverse ?? false },
      };
    },
    backward({ attrs }, [g]) {
      return [p("cumsum", [g as Tensor], { dim: attrs.dim, reverse: !attrs.reverse })];
    },
  } satisfies Primitive<{ dim: number; reverse?: boolean }>,
  sort: {
    inputs: ["x"],
    infer(inputs, attrs: { dim: number; descending?: boolean }) {
      const x = inputs[0] as Tensor;
      const dim = normalizeDim("sort", attrs.dim, x.ndim);
      return {
        outputs: [
          { shape: [...x.shape], dtype: x.dtype },
          { shape: [...x.shape], dtype: "int64" },
        ],
        attrs: { dim, descending: attrs.descending ?? false },
      };
    },
    backward({ inputs: [x], outputs: [, idx], attrs }, [g]) {
      if (!g) return [null];
      const zeros = allocate((x as Tensor).shape, g.dtype);
      return [p("scatterAdd", [zeros, idx as Tensor, g], { dim: attrs.dim })];
    },
  } satisfies Primitive<{ dim: number; descending?: boolean }>,

  matmul: {
    inputs: ["a", "b", "bias", "addend"],
    // `outDtype: "float32"` keeps a 16-bit product's float32 accumulation (weight-only low precision).
    // `bias: true`: a third input `[N]` in the output's dtype is added to every row of the
    // product (PyTorch's addmm), in the same pass that writes it.
    // `roundA: true`: a float32 `a` times a 16-bit `b` (a weight stored in 16 bits) multiplies in
    // b's dtype, `a` rounded to it inside the kernel: `matmul(cast(a, b.dtype), b)` in one op
    // (decoding with bf16 weights runs one such product per layer input, ~50 a token).
    // `addend: true`: a last input of the output's shape (a residual stream), float32 like the
    // output, is added to the finished product by the same kernel call, rounded as a separate
    // add would round it (so the result is add(addend, product) bit for bit, one op fewer).
    // `activation` ("gelu", "geluTanh", "silu"; float32 output): applied to that result by the
    // same kernel call, as the activation op after it would (an MLP's first layer, one op and one
    // pass over its output fewer); the backward recomputes the product before the activation.
    // (Runs ~50 times a decoding step, most with a weight `b` of rank 2: no spread, slice or
    // closure there beyond what the checks and the output need.)
    infer(inputs, attrs: MatmulAttrs) {
      const a = inputs[0] as Tensor;
      const b = inputs[1] as Tensor;
      if (a.ndim < 2 || b.ndim < 2) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("matmul", inputs)}: the primitive needs inputs of rank >= 2`,
        );
      }
      const count = 2 + (attrs.bias ? 1 : 0) + (attrs.addend ? 1 : 0);
      if (inputs.length !== count) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `${name("matmul", inputs)}: expected ${count} inputs (attributes 'bias' ${!!attrs.bias}, 'addend' ${!!attrs.addend}), got ${inputs.length}`,
        );
      }
      const dtype = attrs.roundA
        ? roundedDType(a, b, name.bind(null, "matmul", inputs))
        : sameDType("matmul", [a, b], ["a", "b"]);
      const m = a.shape[a.ndim - 2] as number;
      const k = a.shape[a.ndim - 1] as number;
      const k2 = b.shape[b.ndim - 2] as number;
      const n = b.shape[b.ndim - 1] as number;
      if (k !== k2) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("matmul", inputs)}: argument 'b' must have shape [..., ${k}, N] to match a's last dim ${k}, got ${fmt(b.shape)}`,
        );
      }
      // a's batch dims as they are when b has none (a layer's weight), else both broadcast
      const batch =
        b.ndim === 2
          ? a.shape.slice(0, -2)
          : broadcastShapes(name.bind(null, "matmul", inputs), a.shape.slice(0, -2), b.shape.slice(0, -2));
      if (
        attrs.outDtype !== undefined &&
        attrs.outDtype !== dtype &&
        !(attrs.outDtype === "float32" && isFloating(dtype))
      ) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_DTYPE",
          `${name("matmul", inputs)}: attribute 'outDtype' must be the inputs' dtype or float32 for float inputs, got ${attrs.outDtype}`,
        );
      }
      const outDtype = attrs.outDtype ?? dtype;
      const bias = attrs.bias ? inputs[2] : undefined;
      if (bias && (bias.ndim !== 1 || bias.shape[0] !== n || bias.dtype !== outDtype)) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("matmul", inputs)}: argument 'bias' must be a ${outDtype} vector [${n}], got ${bias.describe()}`,
        );
      }
      const shape = batch.slice();
      shape.push(m, n);
      const addend = attrs.addend ? inputs[inputs.length - 1] : undefined;
      if (addend && (outDtype !== "float32" || addend.dtype !== "float32" || !sameShape(addend.shape, shape))) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("matmul", inputs)}: argument 'addend' must be float32 ${fmt(shape)} (the output's shape, a float32 output), got ${addend.describe()} for a ${outDtype} output`,
        );
      }
      if (attrs.activation !== undefined && (outDtype !== "float32" || !ACTIVATIONS.has(attrs.activation))) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `${name("matmul", inputs)}: attribute 'activation' must be "gelu", "geluTanh" or "silu" on a float32 output, got ${JSON.stringify(attrs.activation)} for a ${outDtype} output`,
        );
      }
      // each operand viewed at [...batch, rows, cols]; one already of that rank keeps its view
      const kernelInputs = [batchedView(a, batch, m, k), batchedView(b, batch, k, n)];
      if (bias) kernelInputs.push(bias.view_());
      if (addend) kernelInputs.push(addend.view_());
      // the attributes as booleans (the kernels and the backward read them so)
      const normal = attrs.bias === !!bias && attrs.addend === !!addend;
      return {
        outputs: [{ shape, dtype: outDtype }],
        kernelInputs,
        attrs: normal ? attrs : { ...attrs, bias: !!bias, addend: !!addend },
      };
    },
    backward({ inputs, needs, attrs }, [gOut]) {
      const [a, b] = inputs;
      // with an activation: its backward at the product before it (recomputed, not saved)
      const g = attrs.activation && gOut ? activationGrad(inputs as Tensor[], attrs, gOut) : gOut;
      const mT = (t: Tensor) => {
        const dims = t.shape.map((_, i) => i);
        dims.push(dims.splice(-2, 1)[0] as number);
        return p("permute", [t], { dims });
      };
      // An operand stored transposed (Linear's weight.T) gets its gradient computed transposed,
      // (g·bᵀ)ᵀ = b·gᵀ and (aᵀ·g)ᵀ = gᵀ·a, so it arrives in the operand's own layout and the
      // weight's gradient is contiguous without a copy. The GEMM absorbs either layout.
      const colMajor = (t: Tensor) => t.strides[t.ndim - 2] === 1 && t.strides[t.ndim - 1] !== 1;
      // with roundA, a as the product saw it: rounded to b's dtype (then this is the backward of
      // matmul(cast(a), b), the cast's own backward being the identity into float32)
      const bt = b as Tensor;
      const at = attrs.roundA ? asType(a as Tensor, bt.dtype) : (a as Tensor);
      const gt = asType(g as Tensor, at.dtype);
      // a 16-bit product accumulated into float32 (autocast) gets float32 gradients the same way
      const o = attrs.outDtype ? { outDtype: attrs.outDtype } : {};
      // the bias's gradient: g summed over every row of every batch
      const gBias = () => p("sum", [g as Tensor], { dims: g ? g.shape.slice(0, -1).map((_, i) => i) : [] });
      // b shared by every batch of a (a linear layer on [B, T, K]): dB is one GEMM over all
      // B·T rows, [K, B·T]·[B·T, N], not B products of [K, N] summed afterwards (B× the writes)
      const rows = (t: Tensor) => {
        const shape = [numel(t.shape.slice(0, -1)), t.shape[t.ndim - 1] as number];
        return p("reshape", [viewStrides(t.shape, t.strides, shape) ? t : p("contiguous", [t])], { shape });
      };
      const [ab, gb] = bt.ndim === 2 && at.ndim > 2 ? [rows(at), rows(gt)] : [at, gt];
      return [
        needs[0] ? (colMajor(at) ? mT(p("matmul", [bt, mT(gt)], o)) : p("matmul", [gt, mT(bt)], o)) : null,
        needs[1] ? (colMajor(bt) ? mT(p("matmul", [mT(gb), ab], o)) : p("matmul", [mT(ab), gb], o)) : null,
        ...(attrs.bias ? [needs[2] ? gBias() : null] : []),
        ...(attrs.addend ? [needs[needs.length - 1] ? g : null] : []),
      ];
    },
  } satisfies Primitive<MatmulAttrs>,

  // movement: views (no kernel) and copies
  reshape: {
    inputs: ["x"],
    infer(inputs, attrs: { shape: number[] }) {
      const x = inputs[0] as Tensor;
      if (numel(attrs.shape) !== x.size) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `reshape: cannot view ${x.describe()} (${x.size} elements) as ${fmt(attrs.shape)} (${numel(attrs.shape)} elements)`,
        );
      }
      const strides = viewStrides(x.shape, x.strides, attrs.shape);
      if (!strides) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_NOT_CONTIGUOUS",
          `view: ${x.describe()} with strides ${fmt(x.strides)} cannot be viewed as ${fmt(attrs.shape)} without a copy; use reshape()`,
        );
      }
      return {
        outputs: [{ shape: [...attrs.shape], dtype: x.dtype }],
        view: { shape: [...attrs.shape], strides, offset: x.offset },
      };
    },
    backward({ inputs: [x] }, [g]) {
      const gt = g as Tensor;
      const shape = (x as Tensor).shape;
      return [p("reshape", [viewStrides(gt.shape, gt.strides, shape) ? gt : p("contiguous", [gt])], { shape })];
    },
  } satisfies Primitive<{ shape: number[] }>,
  permute: {
    inputs: ["x"],
    infer(inputs, attrs: { dims: number[] }) {
      const x = inputs[0] as Tensor;
      const dims = attrs.dims.map((d) => normalizeDim("permute", d, x.ndim, "dims"));
      if (dims.length !== x.ndim || new Set(dims).size !== dims.length) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `permute: argument 'dims' must be a permutation of 0..${x.ndim - 1}, got ${fmt(attrs.dims)}`,
        );
      }
      const shape = dims.map((d) => x.shape[d] as number);
      return {
        outputs: [{ shape, dtype: x.dtype }],
        attrs: { dims },
        view: { shape, strides: dims.map((d) => x.strides[d] as number), offset: x.offset },
      };
    },
    backward({ attrs }, [g]) {
      const inv = new Array<number>(attrs.dims.length);
      attrs.dims.forEach((d, i) => {
        inv[d] = i;
      });
      return [p("permute", [g as Tensor], { dims: inv })];
    },
  } satisfies Primitive<{ dims: number[] }>,
  expand: {
    inputs: ["x"],
    infer(inputs, attrs: { shape: number[] }) {
      const x = inputs[0] as Tensor;
      const nd = attrs.shape.length;
      const bad = () =>
        new HearthTensorError("HEARTH_TENSOR_SHAPE", `expand: cannot expand ${x.describe()} to ${fmt(attrs.shape)}`);
      if (nd < x.ndim) throw bad();
      const shape = attrs.shape.map((s, d) => {
        const i = d - (nd - x.ndim);
        return s === -1 && i >= 0 ? (x.shape[i] as number) : s;
      });
      if (shape.some((s) => !Number.isInteger(s) || s < 0)) throw bad();
      for (let i = 0; i < x.ndim; i++) {
        const s = x.shape[i] as number;
        const t = shape[nd - x.ndim + i] as number;
        if (s !== t && s !== 1) throw bad();
      }
      const v = broadcastView(x, shape);
      return {
        outputs: [{ shape, dtype: x.dtype }],
        attrs: { shape },
        view: { shape, strides: [...v.strides], offset: x.offset },
      };
    },
    // the engine sums the gradient down to the input's shape
    backward: (_, [g]) => [g as Tensor],
  } satisfies Primitive<{ shape: number[] }>,
  slice: {
    inputs: ["x"],
    infer(inputs, attrs: { dim: number; start: number; end: number }) {
      const x = inputs[0] as Tensor;
      const dim = normalizeDim("slice", attrs.dim, x.ndim);
      const size = x.shape[dim] as number;
      const { start, end } = attrs;
      if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > size || start > end) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `slice: range [${start}, ${end}) is outside dim ${dim} of size ${size} in ${x.describe()}`,
        );
      }
      const shape = [...x.shape];
      shape[dim] = end - start;
      return {
        outputs: [{ shape, dtype: x.dtype }],
        attrs: { dim, start, end },
        view: { shape, strides: [...x.strides], offset: x.offset + start * (x.strides[dim] as number) },
      };
    },
    backward({ inputs: [x], attrs }, [g]) {
      const t = x as Tensor;
      const pads = t.shape.map((s, d) => (d === attrs.dim ? [attrs.start, s - attrs.end] : [0, 0]));
      return [p("pad", [g as Tensor], { pads, value: 0 })];
    },
  } satisfies Primitive<{ dim: number; start: number; end: number }>,
  contiguous: {
    inputs: ["x"],
    infer(inputs) {
      const x = inputs[0] as Tensor;
      return { outputs: [{ shape: [...x.shape], dtype: x.dtype }] };
    },
    backward: (_, [g]) => [g as Tensor],
  } satisfies Primitive,
  pad: {
    inputs: ["x"],
    infer(inputs, attrs: { pads: [number, number][]; value?: number }) {
      const x = inputs[0] as Tensor;
      if (
        attrs.pads.length !== x.ndim ||
        !attrs.pads.every((q) => q.length === 2 && q.every((v) => Number.isInteger(v) && v >= 0))
      ) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `pad: attribute 'pads' must hold ${x.ndim} pairs of non-negative integers, got ${JSON.stringify(attrs.pads)}`,
        );
      }
      const shape = x.shape.map(
        (s, d) => s + (attrs.pads[d] as [number, number])[0] + (attrs.pads[d] as [number, number])[1],
      );
      return { outputs: [{ shape, dtype: x.dtype }], attrs: { pads: attrs.pads, value: attrs.value ?? 0 } };
    },
    backward({ inputs: [x], attrs }, [g]) {
      let out = g as Tensor;
      (x as Tensor).shape.forEach((s, d) => {
        const before = (attrs.pads[d] as [number, number])[0];
        if (before !== 0 || out.shape[d] !== s) out = p("slice", [out], { dim: d, start: before, end: before + s });
      });
      return [out];
    },
  } satisfies Primitive<{ pads: [number, number][]; value?: number }>,
  cat: {
    inputs: ["...tensors"],
    infer(inputs, attrs: { dim: number }) {
      const first = inputs[0];
      if (!first) throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", "cat: argument 'tensors' must not be empty");
      const dim = normalizeDim("cat", attrs.dim, first.ndim);
      const dtype = sameDType(
        "cat",
        inputs,
        inputs.map((_, i) => `tensors[${i}]`),
      );
      let total = 0;
      for (const [i, t] of inputs.entries()) {
        const ok = t.ndim === first.ndim && t.shape.every((s, d) => d === dim || s === first.shape[d]);
        if (!ok) {
          throw new HearthTensorError(
            "HEARTH_TENSOR_SHAPE",
            `${name("cat", inputs)}: tensors[${i}] must match tensors[0] in every dim but ${dim}`,
          );
        }
        total += t.shape[dim] as number;
      }
      const shape = [...first.shape];
      shape[dim] = total;
      return { outputs: [{ shape, dtype }], attrs: { dim } };
    },
    backward({ inputs, attrs, needs }, [g]) {
      let start = 0;
      return inputs.map((t, i) => {
        const end = start + (t.shape[attrs.dim] as number);
        const r = needs[i] ? p("slice", [g as Tensor], { dim: attrs.dim, start, end }) : null;
        start = end;
        return r;
      });
    },
  } satisfies Primitive<{ dim: number }>,

  // indexing
  gather: {
    inputs: ["x", "index"],
    infer(inputs, attrs: { dim: number }) {
      const [x, index] = inputs as [Tensor, Tensor];
      const dim = normalizeDim("gather", attrs.dim, x.ndim);
      checkIndex("gather", index);
      if (index.ndim !== x.ndim || index.shape.some((s, d) => d !== dim && s > (x.shape[d] as number))) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("gather", inputs)}: 'index' must have x's rank and sizes <= x's outside dim ${dim}`,
        );
      }
      return { outputs: [{ shape: [...index.shape], dtype: x.dtype }], attrs: { dim } };
    },
    backward({ inputs: [x, index], attrs }, [g]) {
      // Zeros as a broadcast scalar: nothing to allocate or read (embedding tables are large).
      const zeros = p("expand", [c(0, g as Tensor)], { shape: (x as Tensor).shape });
      return [p("scatterAdd", [zeros, index as Tensor, g as Tensor], { dim: attrs.dim }), null];
    },
  } satisfies Primitive<{ dim: number }>,
  scatterAdd: {
    inputs: ["x", "index", "src"],
    infer(inputs, attrs: { dim: number }) {
      const [x, index, src] = inputs as [Tensor, Tensor, Tensor];
      const dim = normalizeDim("scatterAdd", attrs.dim, x.ndim);
      checkIndex("scatterAdd", index);
      sameDType("scatterAdd", [x, src], ["x", "src"]);
      const ok =
        index.ndim === x.ndim &&
        src.ndim === x.ndim &&
        index.shape.every((s, d) => s === src.shape[d] && (d === dim || s <= (x.shape[d] as number)));
      if (!ok) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${name("scatterAdd", inputs)}: 'index' and 'src' must share a shape of x's rank, <= x's outside dim ${dim}`,
        );
      }
      return { outputs: [{ shape: [...x.shape], dtype: x.dtype }], attrs: { dim } };
    },
    backward({ inputs: [, index], attrs, needs }, [g]) {
      return [
        needs[0] ? (g as Tensor) : null,
        null,
        needs[2] ? p("gather", [g as Tensor, index as Tensor], { dim: attrs.dim }) : null,
      ];
    },
  } satisfies Primitive<{ dim: number }>,

  // convolution support: im2col / col2im (Caffe's unfold/fold)
  im2col: {
    inputs: ["x"],
    infer(inputs, attrs: ConvAttrs) {
      const x = inputs[0] as Tensor;
      checkConvAttrs("im2col", attrs);
      if (x.ndim !== 4) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `im2col: argument 'x' must be [N, C, H, W], got ${x.describe()}`,
        );
      }
      const [n, ch, h, w] = x.shape as [number, number, number, number];
      const oh = convOut(h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.dilation[0]);
      const ow = convOut(w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.dilation[1]);
      if (oh <= 0 || ow <= 0) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `conv: input ${x.describe()} is smaller than the (dilated) kernel ${fmt(attrs.kernel)} after padding`,
        );
      }
      return { outputs: [{ shape: [n, ch * attrs.kernel[0] * attrs.kernel[1], oh * ow], dtype: x.dtype }] };
    },
    backward({ inputs: [x], attrs }, [g]) {
      const [, , h, w] = (x as Tensor).shape as [number, number, number, number];
      return [p("col2im", [g as Tensor], { ...attrs, outputSize: [h, w] })];
    },
  } satisfies Primitive<ConvAttrs>,
  col2im: {
    inputs: ["cols"],
    infer(inputs, attrs: Col2imAttrs) {
      const x = inputs[0] as Tensor;
      checkConvAttrs("col2im", attrs);
      const kk = attrs.kernel[0] * attrs.kernel[1];
      const [h, w] = attrs.outputSize;
      const oh = convOut(h, attrs.kernel[0], attrs.stride[0], attrs.padding[0], attrs.dilation[0]);
      const ow = convOut(w, attrs.kernel[1], attrs.stride[1], attrs.padding[1], attrs.dilation[1]);
      if (x.ndim !== 3 || (x.shape[1] as number) % kk !== 0 || x.shape[2] !== oh * ow) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `col2im: argument 'cols' must be [N, C*${kk}, ${oh * ow}], got ${x.describe()}`,
        );
      }
      return { outputs: [{ shape: [x.shape[0] as number, (x.shape[1] as number) / kk, h, w], dtype: x.dtype }] };
    },
    backward({ attrs }, [g]) {
      const { outputSize: _, ...conv } = attrs;
      return [p("im2col", [g as Tensor], conv)];
    },
  } satisfies Primitive<Col2imAttrs>,

  // randomness: the op wrappers draw `seed` from the global generator
  random: {
    inputs: [],
    infer(
      _,
      attrs: { shape: number[]; dtype: DType; distribution: "uniform" | "normal"; seed: number; a: number; b: number },
    ) {
      return { outputs: [{ shape: [...attrs.shape], dtype: attrs.dtype }] };
    },
  },
  multinomial: {
    inputs: ["probs"],
    infer(inputs, attrs: { numSamples: number; replacement: boolean; seed: number }) {
      const x = inputs[0] as Tensor;
      if (x.ndim < 1 || x.ndim > 2) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `multinomial: argument 'probs' must be 1-d or 2-d, got ${x.describe()}`,
        );
      }
      const k = x.shape[x.ndim - 1] as number;
      if (!Number.isInteger(attrs.numSamples) || attrs.numSamples < 1 || (!attrs.replacement && attrs.numSamples > k)) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `multinomial: argument 'numSamples' must be in [1, ${attrs.replacement ? "∞" : k}], got ${attrs.numSamples}`,
        );
      }
      return { outputs: [{ shape: [...x.shape.slice(0, -1), attrs.numSamples], dtype: "int64" }] };
    },
  },
  ...LOSS_PRIMITIVES,

  // fused: softmax, logSoftmax, layerNorm, rmsNorm, gelu, silu and their backwards
  ...FUSED_PRIMITIVES,

  // fused attention (nn/attention-primitive.ts)
  ...ATTENTION_PRIMITIVES,
};

function argReduce(opName: string): Primitive<DimAttrs> {
  return {
    inputs: ["x"],
    infer(inputs, attrs) {
      const x = inputs[0] as Tensor;
      const dim = normalizeDim(opName, attrs.dim, x.ndim);
      if (x.ndim > 0 && x.shape[dim] === 0) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `${opName}: cannot reduce over an empty dim in ${x.describe()}`,
        );
      }
      const keepdim = attrs.keepdim ?? false;
      return {
        outputs: [{ shape: reducedShape(x.shape, x.ndim ? [dim] : [], keepdim), dtype: "int64" }],
        attrs: { dim, keepdim },
      };
    },
  };
}

/** Names of all primitives. */
export const PRIMITIVE_NAMES: readonly string[] = Object.keys(PRIMITIVES);
