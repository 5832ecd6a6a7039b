/** Python's `ACT2FN`: activation functions by their config name (`hidden_act`, `activation_function`). */
import { gelu, mul, type ProductActivation, relu, sigmoid, silu, type Tensor, tanh } from "@hearth/tensor";
import { ErrorCodes, fail } from "../errors.ts";

const ACTIVATIONS: Record<string, (x: Tensor) => Tensor> = {
  gelu: (x) => gelu(x),
  gelu_new: (x) => gelu(x, "tanh"),
  gelu_pytorch_tanh: (x) => gelu(x, "tanh"),
  gelu_fast: (x) => gelu(x, "tanh"),
  quick_gelu: (x) => mul(x, sigmoid(mul(x, 1.702))),
  relu: (x) => relu(x),
  silu: (x) => silu(x),
  swish: (x) => silu(x),
  tanh: (x) => tanh(x),
};

/** The activation named `name` in a config. */
export function activation(name: string, where: string): (x: Tensor) => Tensor {
  const fn = ACTIVATIONS[name];
  if (!fn) {
    throw fail(
      ErrorCodes.MODEL_UNSUPPORTED,
      `${where}: activation '${name}' is not supported; supported: ${Object.keys(ACTIVATIONS).join(", ")}`,
    );
  }
  return fn;
}

/** The config activations a matmul can apply to its own result (`addmm`'s `activation`). */
const PRODUCT_ACTIVATIONS: Record<string, ProductActivation> = {
  gelu: "gelu",
  gelu_new: "geluTanh",
  gelu_pytorch_tanh: "geluTanh",
  gelu_fast: "geluTanh",
  silu: "silu",
  swish: "silu",
};

/**
 * The activation named `name` as `addmm`/`matmul` apply it to their result (the same values as
 * {@link activation}'s function after the product), or undefined when they have no such form.
 */
export function productActivation(name: string): ProductActivation | undefined {
  return PRODUCT_ACTIVATIONS[name];
}
