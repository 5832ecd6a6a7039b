/**
 * Python's `GPT2PreTrainedModel._init_weights` for training from scratch: Linear/Conv1D and
 * Embedding weights from N(0, initializer_range), biases zero, LayerNorm weight one / bias zero,
 * and the residual output projections (`c_proj`) scaled by 1/√(2·n_layer).
 */
import {
  copy_,
  Embedding,
  LayerNorm,
  Linear,
  type Module,
  noGrad,
  ones,
  randn,
  type Tensor,
  zeros,
} from "@hearth/tensor";
import { Conv1D } from "@hearth/transformers";

export function initGpt2Weights(model: Module, std: number, nLayer: number): void {
  noGrad(() => {
    for (const [name, m] of model.namedModules()) {
      if (m instanceof Linear || m instanceof Conv1D || m instanceof Embedding) {
        const s = name.endsWith("c_proj") ? std / Math.sqrt(2 * nLayer) : std;
        copy_(m.weight, randn([...m.weight.shape], { std: s }));
        const bias = (m as { bias?: Tensor | null }).bias;
        if (bias) copy_(bias, zeros([...bias.shape]));
      } else if (m instanceof LayerNorm) {
        if (m.weight) copy_(m.weight, ones([...m.weight.shape]));
        if (m.bias) copy_(m.bias, zeros([...m.bias.shape]));
      }
    }
  });
}
