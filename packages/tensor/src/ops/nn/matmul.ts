import { isGradEnabled } from "../../autograd/grad-mode.ts";
import type { DType } from "../../dtype.ts";
import { HearthTensorError } from "../../errors.ts";
import { broadcastShapes, fmt, sameShape } from "../../shape.ts";
import type { Tensor } from "../../tensor.ts";
import { apply1 } from "../apply.ts";
import { add } from "../elementwise/binary.ts";
import { gelu } from "../elementwise/gelu.ts";
import { silu } from "../elementwise/silu.ts";
import { transpose } from "../movement/permute.ts";
import { squeeze, unsqueeze } from "../movement/reshape.ts";
import type { MatmulAttrs, ProductActivation } from "../primitives.ts";
import { cast, checkTensor } from "../util.ts";
import { autocastDtype, markAutocastOperand } from "./autocast.ts";

/**
 * Matrix product with NumPy semantics: 1-d operands are promoted to a row/column and the extra
 * dim removed; batch dims broadcast. A float32 operand times a bfloat16/float16 one (a weight
 * stored in 16 bits) multiplies in the 16-bit dtype and returns float32.
 *
 * `options.residual`, a tensor of the output's shape, is added as well (for a float32 product by
 * the same op, which adds it to each output tile while the tile is in cache, rounded as the
 * `add(residual, matmul(a, b))` it equals bit for bit; otherwise by that add).
 *
 * `options.activation` ("gelu", "geluTanh", "silu") is applied to the result, as `gelu(...)` /
 * `gelu(..., "tanh")` / `silu(...)` after it would (bit for bit): for a float32 product by the
 * same op, which applies it to each output tile while the tile is in cache, unless the result
 * records a gradient (the separate op saves its input for the backward, which the fused one
 * would have to recompute); otherwise by that op.
 *
 * @example
 * const y = matmul(x, w); // [B, T, C] @ [C, D] -> [B, T, D]
 * const z = matmul(h, u, { residual: y }); // y + h·u, one op
 */
export function matmul(a: Tensor, b: Tensor, options: ProductOptions = {}): Tensor {
  if (options.residual) checkTensor("matmul", "residual", options.residual);
  const activation = checkActivation("matmul", options.activation);
  return activate(product("matmul", a, b, null, options.residual ?? null, activation));
}

/** Options of {@link matmul} and {@link addmm}. */
export interface ProductOptions {
  /** Added to the result: a tensor of its shape (a residual stream). */
  residual?: Tensor;
  /** Applied last: gelu (erf), gelu's tanh approximation, or silu. */
  activation?: ProductActivation;
}

/**
 * `bias + a·b` (PyTorch's `addmm`, with `matmul`'s rules for a and b, so batched and 16-bit
 * weight operands work as there). A bias vector `[N]` in the product's dtype is added in the
 * pass that writes the product (one op and one pass over the output fewer than `add(matmul(a,
 * b), bias)`, which it equals); any other bias is broadcast with `add`.
 *
 * `options.residual`, a tensor of the output's shape (a transformer block's residual stream), is
 * added as well: for a float32 product with a fused bias (or none) by the same op, rounded as the
 * `add(residual, addmm(bias, a, b))` it equals bit for bit; otherwise by that add.
 * `options.activation` is applied last, as in {@link matmul}.
 *
 * @example
 * const y = addmm(bias, x, w); // [B, T, C] @ [C, D] + [D] -> [B, T, D]
 * const h = addmm(bias, x, w, { residual: h0 }); // h0 + x·w + bias
 * const f = addmm(bias, x, w, { activation: "geluTanh" }); // gelu(x·w + bias, "tanh"), one op
 */
export function addmm(bias: Tensor, a: Tensor, b: Tensor, options: ProductOptions = {}): Tensor {
  checkTensor("addmm", "bias", bias);
  if (options.residual) checkTensor("addmm", "residual", options.residual);
  const activation = checkActivation("addmm", options.activation);
  return activate(product("addmm", a, b, bias, options.residual ?? null, activation));
}

function checkActivation(op: string, activation: ProductActivation | undefined): ProductActivation | undefined {
  if (activation !== undefined && activation !== "gelu" && activation !== "geluTanh" && activation !== "silu") {
    throw new HearthTensorError(
      "HEARTH_TENSOR_ARGUMENT",
      `${op}: option 'activation' must be "gelu", "geluTanh" or "silu", got ${JSON.stringify(activation)}`,
    );
  }
  return activation;
}

/** The product, and the activation still to apply (undefined when the product applied it). */
interface Product {
  tensor: Tensor;
  activation: ProductActivation | undefined;
}

/** The product with its activation applied: by the op that is the composite every fused form equals. */
function activate({ tensor, activation }: Product): Tensor {
  if (activation === undefined) return tensor;
  return activation === "silu" ? silu(tensor) : gelu(tensor, activation === "geluTanh" ? "tanh" : "none");
}

function product(
  op: string,
  a: Tensor,
  b: Tensor,
  bias: Tensor | null,
  residual: Tensor | null,
  activation: ProductActivation | undefined,
): Product {
  checkTensor(op, "a", a);
  checkTensor(op, "b", b);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${op}(${a.describe()}, ${b.describe()}): both arguments must have at least 1 dim`,
    );
  }
  const k = a.shape[a.ndim - 1] as number;
  const kb = b.shape[Math.max(0, b.ndim - 2)] as number;
  if (k !== kb) {
    throw new HearthTensorError(
      "HEARTH_TENSOR_SHAPE",
      `${op}(${a.describe()}, ${b.describe()}): argument 'b' must have ${k} rows to match a's last dim, got ${fmt(b.shape)}`,
    );
  }
  const low = autocastDtype();
  if (low !== null && a.dtype === "float32" && b.dtype === "float32") {
    // Under autocast: multiply in the low dtype with float32 accumulation, and keep the float32
    // product (the GEMM writes it directly; rounding it to 16 bits and back would only cost two
    // passes and precision). The backward GEMMs run the same way (see `matmul` in primitives.ts).
    return matmulExact(castDense(a, low), castDense(b, low), bias, "float32", false, residual, activation);
  }
  if (a.dtype === "float32" && lowOf(b)) {
    // Weight-only low precision: float32 activations times a 16-bit weight multiply in the
    // weight's dtype (the activation rounded to it, float32 accumulation), so the weight is
    // read as stored; the product comes back float32. The rounding happens inside the product
    // (`roundA`), not as a cast op of its own.
    return matmulExact(a, b, bias, "float32", true, residual, activation);
  }
  if (lowOf(a) && b.dtype === "float32")
    return matmulExact(a, castDense(b, a.dtype), bias, "float32", false, residual, activation);
  return matmulExact(a, b, bias, undefined, false, residual, activation);
}

/**
 * `cast(t, dtype)` computed in t's memory layout when t is the transpose of a contiguous matrix
 * (a linear layer's `weightᵀ`): the cast is then one contiguous pass and the GEMM reads the
 * transposed result in place, instead of the cast gathering a transpose.
 */
function castDense(t: Tensor, dtype: DType): Tensor {
  if (t.dtype !== "float32") return cast(t, dtype);
  if (t.ndim >= 2 && !t.isContiguous()) {
    const tt = transpose(t, -1, -2);
    if (tt.isContiguous()) {
      const low = markAutocastOperand(cast(tt, dtype));
      return markAutocastOperand(transpose(low, -1, -2));
    }
  }
  return markAutocastOperand(cast(t, dtype));
}

// Helpers live at module level, not as closures made per call: tsx (esbuild's keepNames) names
// every function object it creates, a defineProperty per closure, and a decoding step makes
// ~50 products.
function lowOf(t: Tensor): boolean {
  return t.dtype === "bfloat16" || t.dtype === "float16";
}

/** The product's shape: the broadcast batch dims of a and b (a's when b has none: a layer's weight), M, N. */
function productShape(a: Tensor, b: Tensor, a2: Tensor, b2: Tensor, n: number): number[] {
  const ba = a2.shape.slice(0, -2);
  const shape =
    b2.ndim === 2 ? ba : a2.ndim === 2 ? b2.shape.slice(0, -2) : broadcastShapes(op(a, b), ba, b2.shape.slice(0, -2));
  shape.push(a2.shape[a2.ndim - 2] as number, n);
  return shape;
}

function matmulExact(
  a: Tensor,
  b: Tensor,
  bias: Tensor | null,
  outDtype: DType | undefined,
  roundA: boolean,
  residual: Tensor | null,
  activation: ProductActivation | undefined,
): Product {
  const a2 = a.ndim === 1 ? unsqueeze(a, 0) : a;
  const b2 = b.ndim === 1 ? unsqueeze(b, 1) : b;
  const n = b2.shape[b2.ndim - 1] as number;
  const dtype = outDtype ?? (roundA ? "float32" : a.dtype);
  // The primitive takes a bias [N] in the product's dtype; anything else is added after.
  const fused = bias !== null && bias.ndim === 1 && bias.shape[0] === n && bias.dtype === dtype;
  // ...and an addend of exactly its output's shape and dtype, after a fused bias or none.
  const withAddend =
    residual !== null &&
    a.ndim > 1 &&
    b.ndim > 1 &&
    (bias === null || fused) &&
    dtype === "float32" &&
    residual.dtype === "float32" &&
    sameShape(residual.shape, productShape(a, b, a2, b2, n));
  // ...and the activation after all of that, unless the result records a gradient (see matmul).
  const withActivation =
    activation !== undefined &&
    dtype === "float32" &&
    (bias === null || fused) &&
    (residual === null || withAddend) &&
    !(isGradEnabled() && (a.requiresGrad || b.requiresGrad || bias?.requiresGrad || residual?.requiresGrad));
  // Built field by field (object and array spreads cost more than the rest of this function).
  // (bias and addend always present, as booleans: the primitive then keeps this very object)
  const attrs: MatmulAttrs = { bias: fused, addend: withAddend };
  if (outDtype) attrs.outDtype = outDtype;
  if (roundA) attrs.roundA = true;
  if (withActivation) attrs.activation = activation;
  const inputs = [a2, b2];
  if (fused) inputs.push(bias);
  if (withAddend) inputs.push(residual);
  let out = apply1("matmul", inputs, attrs);
  if (a.ndim === 1) out = squeeze(out, -2);
  if (b.ndim === 1) out = squeeze(out, -1);
  if (bias !== null && !fused) out = add(out, bias);
  if (residual !== null && !withAddend) out = add(residual, out);
  return { tensor: out, activation: withActivation ? undefined : activation };
}

const op = (a: Tensor, b: Tensor) => () => `addmm(${a.describe()}, ${b.describe()})`;
