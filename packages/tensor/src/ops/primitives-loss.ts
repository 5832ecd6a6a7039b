/**
 * Fused loss primitives, appended to the table in `primitives.ts`.
 *
 * `crossEntropy` is promoted from a composite (logSoftmax + gather + masks, about a dozen
 * passes over the [N, V] logits and as many in the backward) to one primitive with a fused
 * backward: on a 50,257-word vocabulary the logits are the largest activation of a language
 * model's training step. `npm run bench -- train` shows the step it belongs to.
 *
 * Shapes: N rows, V classes.
 */
import { isFloating } from "../dtype.ts";
import { HearthTensorError } from "../errors.ts";
import { fmt } from "../shape.ts";
import type { Tensor } from "../tensor.ts";
import { apply1 } from "./apply.ts";
import { checkIndex, name } from "./primitive-helpers.ts";
import type { BackwardContext, Primitive } from "./primitives.ts";

/** Attributes of `crossEntropy` and `crossEntropyBackward`. */
export type CrossEntropyAttrs = {
  /** Rows whose target equals this contribute 0 and get a zero gradient. */
  ignoreIndex: number;
  /** ε in [0, 1]: the target distribution is (1 − ε)·one-hot + ε/V. */
  labelSmoothing: number;
};

function checkRows(op: string, inputs: readonly Tensor[]): [number, number] {
  const [x, t] = inputs as [Tensor, Tensor];
  if (!isFloating(x.dtype) || x.ndim !== 2) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${name(op, inputs)}: argument 'logits' must be a floating [N, V] tensor, got ${x.describe()}`,
    );
  }
  checkIndex(op, t);
  const [n, v] = x.shape as [number, number];
  if (t.ndim !== 1 || t.shape[0] !== n) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${name(op, inputs)}: argument 'target' must have shape [${n}], got ${fmt(t.shape)}`,
    );
  }
  return [n, v];
}

function checkAttrs(op: string, attrs: CrossEntropyAttrs): CrossEntropyAttrs {
  const ignoreIndex = attrs.ignoreIndex ?? -100;
  const labelSmoothing = attrs.labelSmoothing ?? 0;
  if (!Number.isInteger(ignoreIndex) || !(labelSmoothing >= 0 && labelSmoothing <= 1)) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: 'ignoreIndex' must be an integer and 'labelSmoothing' in [0, 1], got ${ignoreIndex} and ${labelSmoothing}`,
    );
  }
  return { ignoreIndex, labelSmoothing };
}

// biome-ignore lint/suspicious/noExplicitAny: entries have different attribute types
export const LOSS_PRIMITIVES: Record<string, Primitive<any>> = {
  /**
   * logits [N, V], target [N] (int) → loss [N] (per row, 0 where ignored) and the row
   * log-sum-exp lse [N], saved for the backward.
   */
  crossEntropy: {
    inputs: ["logits", "target"],
    infer(inputs, attrs: CrossEntropyAttrs) {
      const [n] = checkRows("crossEntropy", inputs);
      const dtype = (inputs[0] as Tensor).dtype;
      return {
        outputs: [
          { shape: [n], dtype },
          { shape: [n], dtype },
        ],
        attrs: checkAttrs("crossEntropy", attrs),
      };
    },
    backward(ctx: BackwardContext<CrossEntropyAttrs>, [gLoss, gLse]) {
      const [x, t] = ctx.inputs as [Tensor, Tensor];
      const lse = ctx.outputs[1] as Tensor;
      let dx: Tensor | null = gLoss ? apply1("crossEntropyBackward", [x, t, lse, gLoss], ctx.attrs) : null;
      if (gLse) {
        // ∂lse/∂x = softmax(x): only reached when a caller differentiates the saved lse itself.
        const col = (v: Tensor) => apply1("reshape", [apply1("contiguous", [v])], { shape: [v.shape[0], 1] });
        const sm = apply1("exp", [apply1("sub", [x, col(lse)])]);
        const d = apply1("mul", [sm, col(gLse)]);
        dx = dx ? apply1("add", [dx, d]) : d;
      }
      return [dx, null];
    },
  } satisfies Primitive<CrossEntropyAttrs>,

  /** logits [N, V], target [N], lse [N], gLoss [N] → dlogits [N, V]. */
  crossEntropyBackward: {
    inputs: ["logits", "target", "lse", "gLoss"],
    infer(inputs, attrs: CrossEntropyAttrs) {
      const [n, v] = checkRows("crossEntropyBackward", inputs);
      const x = inputs[0] as Tensor;
      for (const [i, arg] of [
        [2, "lse"],
        [3, "gLoss"],
      ] as const) {
        const u = inputs[i] as Tensor;
        if (u.ndim !== 1 || u.shape[0] !== n || u.dtype !== x.dtype) {
          throw new HearthTensorError(
            "HEARTH_TENSOR_SHAPE",
            `${name("crossEntropyBackward", inputs)}: argument '${arg}' must be ${x.dtype} [${n}], got ${u.describe()}`,
          );
        }
      }
      return { outputs: [{ shape: [n, v], dtype: x.dtype }], attrs: checkAttrs("crossEntropyBackward", attrs) };
    },
  } satisfies Primitive<CrossEntropyAttrs>,
};
