/**
 * Log-probabilities of label tokens under a causal LM's logits, as trl's `get_batch_logps`:
 * position t's logits predict token t+1; positions labelled −100 do not count.
 */
import { type Tensor, tensor } from "@hearth/tensor";

/** trl's and transformers' "ignore this position" label. */
export const LABEL_PAD_TOKEN_ID = -100;

/**
 * Per-token log-probabilities `[B, T−1]` of `labels[:, 1:]` under `logits[:, :−1]`, and the
 * float mask `[B, T−1]` of the positions that count (labels ≠ −100).
 *
 * @param logits `[B, T, V]`
 * @param labels `[B, T]` token ids with −100 where nothing is predicted
 */
export function tokenLogps(logits: Tensor, labels: number[][]): { logps: Tensor; mask: Tensor } {
  const [b, t] = logits.shape as [number, number, number];
  const safe = new Int32Array(b * (t - 1));
  const mask = new Float32Array(b * (t - 1));
  for (let i = 0; i < b; i++) {
    const row = labels[i] as number[];
    for (let j = 1; j < t; j++) {
      const id = row[j] ?? LABEL_PAD_TOKEN_ID;
      const k = i * (t - 1) + j - 1;
      if (id !== LABEL_PAD_TOKEN_ID) {
        safe[k] = id;
        mask[k] = 1;
      }
    }
  }
  const index = tensor(safe, { dtype: "int64", shape: [b, t - 1, 1] });
  const logps = logits
    .narrow(1, 0, t - 1)
    .logSoftmax(-1)
    .gather(2, index)
    .squeeze(2)
    .mul(tensor(mask, { shape: [b, t - 1] }));
  return { logps, mask: tensor(mask, { shape: [b, t - 1] }) };
}

/**
 * Sequence log-probabilities `[B]`: the sum over label tokens, or their mean with `average`
 * (IPO's choice).
 */
export function sequenceLogps(logits: Tensor, labels: number[][], average = false): Tensor {
  const { logps, mask } = tokenLogps(logits, labels);
  const sum = logps.sum(-1);
  return average ? sum.div(mask.sum(-1)) : sum;
}
