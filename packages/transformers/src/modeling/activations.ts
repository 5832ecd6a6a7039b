/** Python's `ACT2FN`: activation functions by their config name (`hidden_act`, `activation_function`). */
import { gelu, mul, relu, sigmoid, silu, type Tensor, tanh } from "@hearth/tensor";
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
