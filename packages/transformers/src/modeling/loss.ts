/** The causal language-modelling loss: position t predicts label t + 1; −100 labels are ignored. */
import { crossEntropy, pad, reshape, slice, type Tensor, to } from "@hearth/tensor";

/**
 * Mean cross-entropy of `logits` `[B, T, V]` against `labels` `[B, T]` shifted by one, in float32.
 * As transformers' `ForCausalLMLoss`, the labels are shifted (padded with −100 at the end) rather
 * than the logits sliced, so the `[B, T, V]` logits are read in place and their gradient is
 * written once, with no copy of the largest activation of the step.
 */
export function causalLMLoss(logits: Tensor, labels: Tensor): Tensor {
  const V = logits.shape[2] as number;
  const flat = reshape(logits, [-1, V]);
  const targets = reshape(slice(pad(labels, [0, 1], -100), 1, 1), [-1]);
  return crossEntropy(flat.dtype === "float32" ? flat : to(flat, "float32"), targets, { ignoreIndex: -100 });
}
