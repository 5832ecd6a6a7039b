/** Parameter initialisers (PyTorch's defaults), drawing from the global generator. */
import { uniform } from "../ops/creation/random.ts";
import type { Tensor } from "../tensor.ts";

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for Linear/Conv weights and biases. */
export function fanInUniform(shape: number[], fanIn: number): Tensor {
  const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniform(shape, -bound, bound);
}
