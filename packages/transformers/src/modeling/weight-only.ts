/**
 * Weight-only low precision (`fromPretrained(dir, { weightsDtype: "bfloat16" })`): the weights
 * that matrix products read — every `Linear` and `Conv1D`, and the output head even when it is
 * tied to the input embedding — are stored in 16 bits, while activations, norms, biases and the
 * embedding lookup stay float32. A float32 activation times a 16-bit weight multiplies in the
 * weight's dtype with float32 accumulation (`matmul`'s mixed rule), so decoding, which reads
 * every weight once per token, moves half the bytes (the native bf16 matrix-vector kernel
 * widens as it streams). Like PyTorch's bf16 weights under autocast, results differ from
 * float32 at bfloat16 precision.
 */
import { type DType, Linear, type Module, to } from "@hearth/tensor";
import { setParameter } from "./checkpoint.ts";
import { Conv1D, TiedLinear } from "./layers.ts";

/** Stores the matmul weights of `model` in `dtype` (see the file comment). */
export function storeMatmulWeights(model: Module, dtype: "bfloat16" | "float16"): void {
  for (const [name, m] of [...model.namedModules()]) {
    if (m instanceof TiedLinear) m.storeLowPrecision(dtype);
    else if ((m instanceof Linear || m instanceof Conv1D) && m.weight.dtype !== dtype) {
      setParameter(model, name ? `${name}.weight` : "weight", to(m.weight.detach(), dtype as DType));
    }
  }
}
