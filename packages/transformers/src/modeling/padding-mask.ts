/**
 * The additive attention mask of bidirectional encoders (BERT, ViT, Whisper's encoder and its
 * cross attention): keys where `attentionMask` is 0 get the dtype's most negative value, as
 * Python's `get_extended_attention_mask` ((1 − mask) · finfo.min). Queries are not masked, so
 * hidden states at padded positions are still computed, as in Python.
 *
 * Shapes: B batch, S key positions.
 */
import { type DType, ne, reshape, type Tensor, to, where, zeros } from "@hearth/tensor";
import { maskValue } from "./attention.ts";

/** `[B, 1, 1, S]` additive mask from a `[B, S]` 1/0 mask, or a `[1, 1, 1, 1]` zero when there is none. */
export function paddingMask(attentionMask: Tensor | null | undefined, dtype: DType): Tensor {
  if (!attentionMask) return zeros([1, 1, 1, 1], { dtype });
  const [B, S] = attentionMask.shape as [number, number];
  const visible = ne(reshape(attentionMask, [B, 1, 1, S]), 0);
  const mask = where(visible, 0, maskValue(dtype));
  return mask.dtype === dtype ? mask : to(mask, dtype);
}
