/** The causal language-modelling loss: position t predicts label t + 1; −100 labels are ignored. */
import { crossEntropy, reshape, slice, type Tensor, to } from "@hearth/tensor";

/** Mean cross-entropy of `logits` `[B, T, V]` against `labels` `[B, T]` shifted by one, in float32. */
export function causalLMLoss(logits: Tensor, labels: Tensor): Tensor {
  const V = logits.shape[2] as number;
  const shifted = reshape(slice(logits, 1, 0, -1), [-1, V]);
  const targets = reshape(slice(labels, 1, 1), [-1]);
  return crossEntropy(shifted.dtype === "float32" ? shifted : to(shifted, "float32"), targets, { ignoreIndex: -100 });
}
