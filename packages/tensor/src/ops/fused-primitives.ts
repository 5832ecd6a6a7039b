/**
 * Fused primitives: softmax, logSoftmax, layerNorm, rmsNorm, gelu and silu, each computed by one
 * kernel in one pass over rows (instead of the five to eight primitives of their compositions),
 * and each with a fused backward primitive that its backward formula calls. `npm run bench --
 * ops` measures the gain. The entries are spread into `PRIMITIVES` (`primitives.ts`).
 *
 * Layouts: softmax/logSoftmax act along `dim`; layerNorm over the trailing `normalizedDims`
 * dims (weight and bias have exactly that shape); rmsNorm over the last dim. The norms also
 * output the per-row statistics their backward needs (float32, shape of the leading dims).
 * The backward primitives have no backward themselves (no double backward, as the engine).
 */
import { recordsBackward } from "../autograd/grad-mode.ts";
import type { DType } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { fmt, normalizeDim } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { apply, apply1 } from "./apply.ts";
import { name, requireFloat, sameDType } from "./primitive-helpers.ts";
import type { Primitive } from "./primitives.ts";

/** Attributes of softmax, logSoftmax and their backwards (dim normalised). */
export interface SoftmaxAttrs {
  dim: number;
}
/**
 * Attributes of layerNorm (`weight`/`bias`: whether those inputs follow x). `stats: false` asks
 * for y alone, without the per-row mean and rstd outputs that only the backward reads (two
 * allocations fewer per call when inference runs one per block half); they come anyway when
 * the call records a backward.
 */
export interface LayerNormAttrs {
  normalizedDims: number;
  eps: number;
  weight: boolean;
  bias: boolean;
  stats?: boolean;
}
/** Attributes of layerNormBackward: which parameter gradients to output after dx. */
export interface LayerNormBackwardAttrs {
  normalizedDims: number;
  weight: boolean;
  needWeight: boolean;
  needBias: boolean;
}
/** Attributes of rmsNorm (normalises the last dim). */
export interface RmsNormAttrs {
  eps: number;
  weight: boolean;
  /** false: y alone, without the rstd output (as layerNorm's `stats`). */
  stats?: boolean;
}
/** Attributes of rmsNormBackward. */
export interface RmsNormBackwardAttrs {
  weight: boolean;
  needWeight: boolean;
}
/** Attributes of gelu and geluBackward. */
export interface GeluAttrs {
  approximate: "none" | "tanh";
}

const same = (x: Tensor, dtype: DType = x.dtype) => ({ shape: [...x.shape], dtype });

function rowwise(op: string, backwardOp: string): Primitive<SoftmaxAttrs> {
  return {
    inputs: ["x"],
    infer(inputs, attrs) {
      const x = inputs[0] as Tensor;
      requireFloat(op, x, "x");
      return { outputs: [same(x)], attrs: { dim: normalizeDim(op, attrs.dim, x.ndim) } };
    },
    backward: ({ outputs: [y], attrs }, [g]) => [apply1(backwardOp, [y as Tensor, g as Tensor], attrs)],
  };
}

function rowwiseBackward(op: string): Primitive<SoftmaxAttrs> {
  return {
    inputs: ["y", "dy"],
    infer(inputs, attrs) {
      const [y, dy] = inputs as [Tensor, Tensor];
      sameDType(op, inputs, ["y", "dy"]);
      if (y.shape.length !== dy.shape.length || y.shape.some((s, i) => s !== dy.shape[i])) {
        throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `${name(op, inputs)}: 'dy' must have the shape of 'y'`);
      }
      return { outputs: [same(y)], attrs: { dim: normalizeDim(op, attrs.dim, y.ndim) } };
    },
  };
}

/** Checks that `p` (weight or bias) has exactly the normalised trailing shape of `x`. */
function checkParam(op: string, x: Tensor, p: Tensor, arg: string, k: number): void {
  const tail = x.shape.slice(x.ndim - k);
  if (p.ndim !== k || p.shape.some((s, i) => s !== tail[i])) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${op}: argument '${arg}' must have shape ${fmt(tail)} (the normalised dims of ${x.describe()}), got ${fmt(p.shape)}`,
    );
  }
}

function elementwiseBackward(op: string): Primitive<object> {
  return {
    inputs: ["x", "dy"],
    infer(inputs) {
      const [x, dy] = inputs as [Tensor, Tensor];
      sameDType(op, inputs, ["x", "dy"]);
      if (x.shape.length !== dy.shape.length || x.shape.some((s, i) => s !== dy.shape[i])) {
        throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `${name(op, inputs)}: 'dy' must have the shape of 'x'`);
      }
      return { outputs: [same(x)] };
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: entries have different attribute types
export const FUSED_PRIMITIVES: Record<string, Primitive<any>> = {
  softmax: rowwise("softmax", "softmaxBackward"),
  softmaxBackward: rowwiseBackward("softmaxBackward"),
  logSoftmax: rowwise("logSoftmax", "logSoftmaxBackward"),
  logSoftmaxBackward: rowwiseBackward("logSoftmaxBackward"),

  layerNorm: {
    inputs: ["x", "weight?", "bias?"],
    infer(inputs, attrs: LayerNormAttrs) {
      const x = inputs[0] as Tensor;
      const k = attrs.normalizedDims;
      requireFloat("layerNorm", x, "x");
      if (!Number.isInteger(k) || k < 1 || k > x.ndim) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `layerNorm: attribute 'normalizedDims' must be in [1, ${x.ndim}] for ${x.describe()}, got ${k}`,
        );
      }
      const params = inputs.slice(1);
      if (params.length !== Number(attrs.weight) + Number(attrs.bias)) {
        throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", "layerNorm: inputs do not match attributes weight/bias");
      }
      sameDType("layerNorm", inputs, ["x", ...(attrs.weight ? ["weight"] : []), ...(attrs.bias ? ["bias"] : [])]);
      for (const [i, p] of params.entries()) {
        checkParam("layerNorm", x, p, i === 0 && attrs.weight ? "weight" : "bias", k);
      }
      const stats = attrs.stats !== false || recordsBackward(inputs);
      const attrsOut = { normalizedDims: k, eps: attrs.eps, weight: attrs.weight, bias: attrs.bias, stats };
      if (!stats) return { outputs: [same(x)], attrs: attrsOut };
      const lead = x.shape.slice(0, x.ndim - k);
      return {
        outputs: [same(x), { shape: lead, dtype: "float32" }, { shape: [...lead], dtype: "float32" }],
        attrs: attrsOut,
      };
    },
    backward({ inputs, outputs: [, mean, rstd], attrs, needs }, [g]) {
      const x = inputs[0] as Tensor;
      const w = attrs.weight ? (inputs[1] as Tensor) : null;
      const wIndex = attrs.weight ? 1 : -1;
      const bIndex = attrs.bias ? inputs.length - 1 : -1;
      const needWeight = wIndex > 0 && (needs[wIndex] as boolean);
      const needBias = bIndex > 0 && (needs[bIndex] as boolean);
      const ins = [x, ...(w ? [w] : []), mean as Tensor, rstd as Tensor, g as Tensor];
      const outs = apply("layerNormBackward", ins, {
        normalizedDims: attrs.normalizedDims,
        weight: attrs.weight,
        needWeight,
        needBias,
      });
      const grads: (Tensor | null)[] = inputs.map(() => null);
      grads[0] = outs[0] as Tensor;
      if (needWeight) grads[wIndex] = outs[1] as Tensor;
      if (needBias) grads[bIndex] = outs[needWeight ? 2 : 1] as Tensor;
      return grads;
    },
  } satisfies Primitive<LayerNormAttrs>,
  layerNormBackward: {
    inputs: ["x", "weight?", "mean", "rstd", "dy"],
    infer(inputs, attrs: LayerNormBackwardAttrs) {
      const x = inputs[0] as Tensor;
      const w = attrs.weight ? (inputs[1] as Tensor) : null;
      const dy = inputs[inputs.length - 1] as Tensor;
      if (dy.dtype !== x.dtype || dy.shape.some((s, i) => s !== x.shape[i]) || dy.ndim !== x.ndim) {
        throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `${name("layerNormBackward", inputs)}: 'dy' must match 'x'`);
      }
      const outputs = [same(x)];
      const tail = x.shape.slice(x.ndim - attrs.normalizedDims);
      if (attrs.needWeight) outputs.push({ shape: [...tail], dtype: (w as Tensor).dtype });
      if (attrs.needBias) outputs.push({ shape: [...tail], dtype: x.dtype });
      return { outputs };
    },
  } satisfies Primitive<LayerNormBackwardAttrs>,

  rmsNorm: {
    inputs: ["x", "weight?"],
    infer(inputs, attrs: RmsNormAttrs) {
      const x = inputs[0] as Tensor;
      requireFloat("rmsNorm", x, "x");
      if (x.ndim < 1) {
        throw new HearthTensorError(
          "HEARTH_TENSOR_SHAPE",
          `rmsNorm: argument 'x' must have a dim, got ${x.describe()}`,
        );
      }
      if (inputs.length !== (attrs.weight ? 2 : 1)) {
        throw new HearthTensorError("HEARTH_TENSOR_ARGUMENT", "rmsNorm: inputs do not match attribute weight");
      }
      if (attrs.weight) {
        sameDType("rmsNorm", inputs, ["x", "weight"]);
        checkParam("rmsNorm", x, inputs[1] as Tensor, "weight", 1);
      }
      const stats = attrs.stats !== false || recordsBackward(inputs);
      return {
        outputs: stats ? [same(x), { shape: x.shape.slice(0, -1), dtype: "float32" }] : [same(x)],
        attrs: { eps: attrs.eps, weight: attrs.weight, stats },
      };
    },
    backward({ inputs, outputs: [, rstd], attrs, needs }, [g]) {
      const needWeight = attrs.weight && (needs[1] as boolean);
      const outs = apply("rmsNormBackward", [...inputs, rstd as Tensor, g as Tensor], {
        weight: attrs.weight,
        needWeight,
      });
      return [outs[0] as Tensor, ...(attrs.weight ? [needWeight ? (outs[1] as Tensor) : null] : [])];
    },
  } satisfies Primitive<RmsNormAttrs>,
  rmsNormBackward: {
    inputs: ["x", "weight?", "rstd", "dy"],
    infer(inputs, attrs: RmsNormBackwardAttrs) {
      const x = inputs[0] as Tensor;
      const dy = inputs[inputs.length - 1] as Tensor;
      if (dy.dtype !== x.dtype || dy.shape.some((s, i) => s !== x.shape[i]) || dy.ndim !== x.ndim) {
        throw new HearthTensorError("HEARTH_TENSOR_SHAPE", `${name("rmsNormBackward", inputs)}: 'dy' must match 'x'`);
      }
      const outputs = [same(x)];
      if (attrs.needWeight)
        outputs.push({ shape: [x.shape[x.ndim - 1] as number], dtype: (inputs[1] as Tensor).dtype });
      return { outputs };
    },
  } satisfies Primitive<RmsNormBackwardAttrs>,

  gelu: {
    inputs: ["x"],
    infer(inputs, attrs: GeluAttrs) {
      const x = inputs[0] as Tensor;
      requireFloat("gelu", x, "x");
      if (attrs.approximate !== "none" && attrs.approximate !== "tanh") {
        throw new HearthTensorError(
          "HEARTH_TENSOR_ARGUMENT",
          `gelu: argument 'approximate' must be "none" or "tanh", got ${JSON.stringify(attrs.approximate)}`,
        );
      }
      return { outputs: [same(x)] };
    },
    backward: ({ inputs: [x], attrs }, [g]) => [apply1("geluBackward", [x as Tensor, g as Tensor], attrs)],
  } satisfies Primitive<GeluAttrs>,
  geluBackward: elementwiseBackward("geluBackward"),
  silu: {
    inputs: ["x"],
    infer(inputs) {
      const x = inputs[0] as Tensor;
      requireFloat("silu", x, "x");
      return { outputs: [same(x)] };
    },
    backward: ({ inputs: [x] }, [g]) => [apply1("siluBackward", [x as Tensor, g as Tensor])],
  } satisfies Primitive,
  siluBackward: elementwiseBackward("siluBackward"),
};
